//! Unit-rate gaps between arrivals, from a seeded generator: constant (1), exponential (a
//! Poisson process) or gamma of shape `burstiness` and mean 1 (as vLLM draws them: shape
//! `burstiness`, scale `1 / (rate · burstiness)`, here with the rate left to `warp`).
//!
//! The generator is xoshiro256++ seeded through splitmix64 (both public-domain reference
//! algorithms), written out here rather than taken from a crate so that a seed gives the same
//! schedule in every release; gamma draws use Marsaglia and Tsang's method.

use crate::scenario::ArrivalProcess;

/// splitmix64: expands a seed into the generator's state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256++.
#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut state = seed;
        Self {
            s: std::array::from_fn(|_| splitmix64(&mut state)),
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Draws the gaps of one arrival process.
#[derive(Debug, Clone)]
pub(super) struct Gaps {
    rng: Rng,
    process: ArrivalProcess,
    /// The second normal deviate of the last polar draw.
    spare_normal: Option<f64>,
}

impl Gaps {
    /// Gaps of `process`, from `seed`.
    pub(super) fn new(process: ArrivalProcess, seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            process,
            spare_normal: None,
        }
    }

    /// The next gap, in units of the mean gap.
    pub(super) fn next_gap(&mut self) -> f64 {
        match self.process {
            ArrivalProcess::Constant => 1.0,
            // 1 - U lies in (0, 1]: the logarithm is finite.
            ArrivalProcess::Poisson => -(1.0 - self.rng.uniform()).ln(),
            ArrivalProcess::Gamma { burstiness } => self.gamma(burstiness) / burstiness,
        }
    }

    /// A gamma deviate of shape `k` and scale 1 (Marsaglia and Tsang; shapes below 1 through
    /// `Gamma(k) = Gamma(k + 1) · U^(1/k)`).
    fn gamma(&mut self, k: f64) -> f64 {
        if k < 1.0 {
            let u = 1.0 - self.rng.uniform();
            return self.gamma(k + 1.0) * u.powf(1.0 / k);
        }
        let d = k - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.rng.uniform();
            if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// A standard normal deviate (Marsaglia's polar method, two per draw).
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.rng.uniform() - 1.0;
            let v = 2.0 * self.rng.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * m);
                return u * m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAWS: usize = 100_000;

    /// Mean and variance of `DRAWS` gaps.
    fn moments(process: ArrivalProcess, seed: u64) -> (f64, f64) {
        let mut gaps = Gaps::new(process, seed);
        let draws: Vec<f64> = (0..DRAWS).map(|_| gaps.next_gap()).collect();
        let mean = draws.iter().sum::<f64>() / DRAWS as f64;
        let var = draws.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (DRAWS - 1) as f64;
        (mean, var)
    }

    #[test]
    fn splitmix64_matches_its_reference_output() {
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut state), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn poisson_gaps_have_the_mean_and_variance_of_an_exponential() {
        // Gaps are in units of 1/λ: mean 1/λ and variance 1/λ² become 1 and 1.
        let (mean, var) = moments(ArrivalProcess::Poisson, 42);
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn gamma_gaps_have_mean_1_and_a_coefficient_of_variation_of_one_over_root_shape() {
        for burstiness in [0.25, 0.5, 1.0, 4.0] {
            let (mean, var) = moments(ArrivalProcess::Gamma { burstiness }, 7);
            let cv = var.sqrt() / mean;
            let expected = 1.0 / burstiness.sqrt();
            assert!((mean - 1.0).abs() < 0.02, "shape {burstiness}: mean {mean}");
            assert!(
                (cv - expected).abs() < 0.02 * expected,
                "shape {burstiness}: cv {cv}, expected {expected}"
            );
        }
    }

    #[test]
    fn constant_gaps_are_one_and_a_seed_repeats_its_draws() {
        let mut constant = Gaps::new(ArrivalProcess::Constant, 1);
        assert!((0..10).all(|_| constant.next_gap() == 1.0));
        let draw = |seed| {
            let mut g = Gaps::new(ArrivalProcess::Gamma { burstiness: 0.5 }, seed);
            (0..100).map(|_| g.next_gap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
    }
}
