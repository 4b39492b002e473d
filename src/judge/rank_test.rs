//! The two-sided Mann–Whitney U test (Wilcoxon rank-sum) of two samples of per-run values.
//!
//! Tied values share their mid-rank. Up to `EXACT_MAX` values in all the p-value is exact: the
//! permutation distribution of the rank sum, counted over every way to split the pooled ranks
//! between the samples, ties included. Beyond that, the normal approximation with tie and
//! continuity corrections.

/// Most values in all for the exact p-value (20 runs a side): counting the splits costs about
/// the cube of the values, and the approximation is close by then.
const EXACT_MAX: usize = 40;

/// A rank test's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RankTest {
    /// U of the first sample: the pairs (x of the first, y of the second) with x > y, ties
    /// counting one half.
    pub(super) u: f64,
    /// Two-sided p-value.
    pub(super) p_value: f64,
    /// Whether the first sample ranks higher than the second (U above its mean).
    pub(super) first_higher: bool,
}

/// Two-sided Mann–Whitney U test of `a` against `b`.
pub(super) fn rank_test(a: &[f64], b: &[f64]) -> RankTest {
    let (n1, n) = (a.len(), a.len() + b.len());
    let ranks = doubled_midranks(a, b);
    // Rank sums are kept doubled so that mid-ranks stay integers.
    let observed: u64 = ranks[..n1].iter().sum();
    let u = observed as f64 / 2.0 - (n1 * (n1 + 1)) as f64 / 2.0;
    let mean_u = (n1 * (n - n1)) as f64 / 2.0;
    let p_value = if n <= EXACT_MAX {
        exact_p(&ranks, n1, observed)
    } else {
        normal_p(&ranks, n1, u)
    };
    RankTest {
        u,
        p_value,
        first_higher: u > mean_u,
    }
}

/// Twice the mid-rank of every value of `a` then `b`, in that order (ranks from 1; tied values
/// share the mean of their ranks).
fn doubled_midranks(a: &[f64], b: &[f64]) -> Vec<u64> {
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&i, &j| pooled[i].total_cmp(&pooled[j]));
    let mut ranks = vec![0; pooled.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && pooled[order[end + 1]] == pooled[order[start]] {
            end += 1;
        }
        // Positions start..=end hold ranks start+1 ..= end+1: twice their mean.
        for &i in &order[start..=end] {
            ranks[i] = (start + end + 2) as u64;
        }
        start = end + 1;
    }
    ranks
}

/// Exact two-sided p-value: the share of all ways to pick `n1` of the pooled (doubled) ranks
/// whose sum lies at least as far from its mean as the `observed` sum of the first sample.
fn exact_p(ranks: &[u64], n1: usize, observed: u64) -> f64 {
    let total: u64 = ranks.iter().sum();
    // counts[k][s]: subsets of k ranks summing to s.
    let mut counts = vec![vec![0f64; total as usize + 1]; n1 + 1];
    counts[0][0] = 1.0;
    // No subset of the ranks seen so far sums past their total.
    let mut reach = 0;
    for (seen, &r) in ranks.iter().enumerate() {
        let r = r as usize;
        reach += r;
        for k in (1..=n1.min(seen + 1)).rev() {
            let (lower, upper) = counts.split_at_mut(k);
            let (from, to) = (&lower[k - 1], &mut upper[0]);
            for s in (r..=reach).rev() {
                to[s] += from[s - r];
            }
        }
    }
    // The mean of the doubled rank sum, n1 (n + 1), is an integer.
    let mean = n1 as u64 * (ranks.len() as u64 + 1);
    let distance = |s: u64| s.abs_diff(mean);
    let far = distance(observed);
    let (mut extreme, mut all) = (0.0, 0.0);
    for (s, &c) in counts[n1].iter().enumerate() {
        all += c;
        if distance(s as u64) >= far {
            extreme += c;
        }
    }
    (extreme / all).min(1.0)
}

/// Two-sided p-value of U by the normal approximation, with the variance corrected for ties
/// and a continuity correction of one half.
fn normal_p(ranks: &[u64], n1: usize, u: f64) -> f64 {
    let n = ranks.len();
    let (n1f, n2f, nf) = (n1 as f64, (n - n1) as f64, n as f64);
    let mut sorted = ranks.to_vec();
    sorted.sort_unstable();
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let j = sorted[i..].iter().take_while(|&&r| r == sorted[i]).count();
        let t = j as f64;
        ties += t * t * t - t;
        i += j;
    }
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1f * n2f / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The complementary error function, to a relative error below 1.2e-7 (the Chebyshev fit of
/// Numerical Recipes, `erfcc`): ample for a p-value read against 0.05.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::noise::ALPHA;

    /// Samples of sizes `n1`, `n2` with no ties whose U (of the first) is `u`: the first
    /// sample's values are placed among `0, 2, 4, ...` (the second's) one by one.
    fn samples_with_u(n1: usize, n2: usize, u: usize) -> (Vec<f64>, Vec<f64>) {
        let b: Vec<f64> = (0..n2).map(|j| 2.0 * j as f64).collect();
        let mut left = u;
        let a = (0..n1)
            .map(|_| {
                // Above `above` values of b: contributes `above` to U.
                let above = left.min(n2);
                left -= above;
                2.0 * above as f64 - 1.0
            })
            .enumerate()
            .map(|(i, v)| v + 0.001 * i as f64)
            .collect();
        (a, b)
    }

    /// Two-tailed critical values of U at 0.05 from published Mann–Whitney tables: the
    /// largest U still significant.
    const CRITICAL: &[(usize, usize, usize)] = &[
        (5, 5, 2),
        (5, 6, 3),
        (5, 7, 5),
        (5, 8, 6),
        (5, 10, 8),
        (6, 6, 5),
        (7, 7, 8),
        (8, 8, 13),
        (10, 10, 23),
        (20, 20, 127),
    ];

    #[test]
    fn exact_p_values_match_the_published_critical_values() {
        for &(n1, n2, crit) in CRITICAL {
            let (a, b) = samples_with_u(n1, n2, crit);
            let at = rank_test(&a, &b);
            assert_eq!(at.u, crit as f64, "{n1}x{n2}");
            assert!(at.p_value <= ALPHA, "{n1}x{n2} U={crit}: p={}", at.p_value);
            let (a, b) = samples_with_u(n1, n2, crit + 1);
            let above = rank_test(&a, &b);
            assert!(
                above.p_value > ALPHA,
                "{n1}x{n2} U={}: p={}",
                crit + 1,
                above.p_value
            );
        }
        // 5 x 5, U = 2: 4 of the 252 splits have U <= 2, two-sided 8/252.
        let (a, b) = samples_with_u(5, 5, 2);
        assert!((rank_test(&a, &b).p_value - 8.0 / 252.0).abs() < 1e-12);
    }

    #[test]
    fn the_normal_approximation_agrees_with_the_tables_for_large_samples() {
        // 20 x 20 through the approximation: U = 127 significant, 128 not.
        for (u, significant) in [(127, true), (128, false)] {
            let (a, b) = samples_with_u(20, 20, u);
            let ranks = doubled_midranks(&a, &b);
            let p = normal_p(&ranks, 20, u as f64);
            assert_eq!(p <= ALPHA, significant, "U={u}: p={p}");
        }
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        // 2 * (1 - Phi(1.96)) = 0.0500
        assert!((erfc(1.96 / std::f64::consts::SQRT_2) - 0.049_996).abs() < 1e-5);
        assert!((erfc(-1.0) - 1.842_700_79).abs() < 1e-6);
    }

    #[test]
    fn ties_get_the_exact_permutation_p_value() {
        let a = [1.0, 2.0, 2.0, 3.0, 3.0];
        let b = [2.0, 3.0, 4.0, 4.0, 5.0];
        let ranks = doubled_midranks(&a, &b);
        // 1 | 2 2 2 | 3 3 3 | 4 4 | 5: mid-ranks 1, 3, 6, 8.5, 10, doubled.
        assert_eq!(ranks, [2, 6, 6, 12, 12, 6, 12, 17, 17, 20]);
        // Brute force: every way to give 5 of the 10 ranks to the first sample.
        let observed: u64 = ranks[..5].iter().sum();
        let far = |s: u64| s.abs_diff(5 * 11);
        let (mut extreme, mut all) = (0, 0);
        for mask in 0u32..1 << 10 {
            if mask.count_ones() != 5 {
                continue;
            }
            let s: u64 = (0..10)
                .filter(|i| mask & 1 << i != 0)
                .map(|i| ranks[i])
                .sum();
            all += 1;
            if far(s) >= far(observed) {
                extreme += 1;
            }
        }
        let test = rank_test(&a, &b);
        assert_eq!(all, 252);
        assert!((test.p_value - extreme as f64 / 252.0).abs() < 1e-12);
        // Pairs with a > b, ties counting one half: 0 + 2 x 0.5 + 2 x 1.5.
        assert_eq!(test.u, 4.0);
        assert!(!test.first_higher);
    }
}
