//! What the detectors' unit tests share.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Matrix, ModelError};

pub fn ok<T>(r: Result<T, ModelError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

pub fn err<T: std::fmt::Debug>(r: Result<T, ModelError>) -> ModelError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

pub fn matrix(data: &[f64], n_cols: usize) -> Matrix<'_> {
    ok(Matrix::new(data, n_cols))
}

/// `n` rows of `n_cols` roughly normal values (sum of uniforms), seeded.
pub fn noise(n: usize, n_cols: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * n_cols)
        .map(|_| (0..4).map(|_| rng.gen::<f64>()).sum::<f64>() - 2.0)
        .collect()
}
