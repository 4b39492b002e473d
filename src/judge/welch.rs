//! Welch's t-test of two samples of per-run values (unequal variances allowed), two-sided,
//! with the p-value from Student's t distribution (the regularized incomplete beta function).

/// A t-test's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WelchTest {
    /// Two-sided p-value.
    pub(super) p_value: f64,
    /// Whether the first sample's mean is the higher.
    pub(super) first_higher: bool,
}

/// Welch's two-sided t-test of `a` against `b`, each with at least two values.
///
/// Two samples without spread are apart for certain when their means differ (p = 0) and not
/// at all when they are equal (p = 1).
pub(super) fn welch(a: &[f64], b: &[f64]) -> WelchTest {
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let (sa, sb) = (va / a.len() as f64, vb / b.len() as f64);
    let se2 = sa + sb;
    let p_value = if se2 == 0.0 {
        if ma == mb { 1.0 } else { 0.0 }
    } else {
        let t = (ma - mb) / se2.sqrt();
        let df = se2 * se2 / (sa * sa / (a.len() - 1) as f64 + sb * sb / (b.len() - 1) as f64);
        student_p(t, df)
    };
    WelchTest {
        p_value,
        first_higher: ma > mb,
    }
}

/// Mean and sample variance (n − 1).
fn mean_var(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Two-sided p-value of `t` with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
fn student_p(t: f64, df: f64) -> f64 {
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t)).clamp(0.0, 1.0)
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction
/// (Numerical Recipes, `betai`), for a, b ≥ 0.5.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The fraction converges fast on this side of the mean; the symmetry I_x(a, b) =
    // 1 − I_{1−x}(b, a) serves the other.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function, by Lentz's method.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// ln Γ(x) for x ≥ 0.5 (Lanczos, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_p_values_match_the_published_critical_values() {
        // Two-sided 0.05 critical values of Student's t.
        for (t, df) in [
            (12.706, 1.0),
            (4.303, 2.0),
            (3.182, 3.0),
            (2.776, 4.0),
            (2.228, 10.0),
            (2.042, 30.0),
            (1.960, 1e7),
        ] {
            let p = student_p(t, df);
            assert!((p - 0.05).abs() < 2e-4, "t={t} df={df}: p={p}");
        }
        assert_eq!(student_p(0.0, 3.0), 1.0);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn welch_by_hand() {
        // Means 2 and 5, variances 1: t = -3 / sqrt(2/3) = -3.674 with 4 degrees of freedom.
        let w = welch(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert!((w.p_value - 0.021_311_641).abs() < 1e-6, "{}", w.p_value);
        assert!(!w.first_higher);
        // Unequal sizes and spreads (Welch's degrees of freedom are fractional).
        let w = welch(&[10.0, 10.2], &[12.0, 12.4, 11.6, 12.1]);
        assert!(w.p_value < 0.05 && !w.first_higher, "{w:?}");
        assert_eq!(welch(&[3.0, 3.0], &[3.0, 3.0]).p_value, 1.0);
        let apart = welch(&[3.0, 3.0], &[4.0, 4.0]);
        assert_eq!((apart.p_value, apart.first_higher), (0.0, false));
    }
}
