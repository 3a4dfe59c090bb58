//! Seeded sampling shared by the detectors.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashSet;

/// `k` distinct indices out of `0..n`, in increasing order (Floyd's algorithm, so the cost
/// depends on `k`, not `n`); the Isolation Forest's subsamples and LOF's `max_samples` rows. Draws are `u64`, so native and wasm32 see the same numbers.
pub(crate) fn sample_without_replacement(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    if k >= n {
        return (0..n).collect();
    }
    let mut chosen = FxHashSet::default();
    chosen.reserve(k);
    let mut out = Vec::with_capacity(k);
    for j in n - k..n {
        let t = rng.gen_range(0..=j as u64) as usize;
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        out.push(pick);
    }
    out.sort_unstable();
    out
}
