//! A seeded random number generator whose draws are the same on every platform.
//!
//! `rand` samples a `usize` range with 64-bit draws on 64-bit targets and 32-bit draws on
//! wasm32, so `rng.gen_range(0..slice.len())` gives different sequences natively and in the
//! browser. [`PortableRng`] offers `gen_range` only for fixed-width types (a `usize` range does
//! not compile), so a generator built on it writes the same bytes everywhere.

use std::ops::{Range, RangeInclusive};

use rand::distributions::uniform::{SampleRange, SampleUniform};
use rand::distributions::{Distribution, Standard};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Types whose uniform sampling is the same on every platform.
pub(crate) trait Portable: SampleUniform + PartialOrd {}
impl Portable for u8 {}
impl Portable for u16 {}
impl Portable for u32 {}
impl Portable for u64 {}
impl Portable for i32 {}
impl Portable for i64 {}
impl Portable for f64 {}

/// Ranges of [`Portable`] types.
pub(crate) trait PortableRange<T>: SampleRange<T> {}
impl<T: Portable> PortableRange<T> for Range<T> {}
impl<T: Portable> PortableRange<T> for RangeInclusive<T> {}

/// Types drawn whole ([`PortableRng::gen`]) the same way on every platform.
pub(crate) trait PortableGen {}
impl PortableGen for f64 {}
impl PortableGen for u16 {}
impl PortableGen for u32 {}
impl PortableGen for u64 {}
impl PortableGen for bool {}

/// ChaCha8, seeded, drawing only fixed-width values.
#[derive(Debug, Clone)]
pub(crate) struct PortableRng(ChaCha8Rng);

impl PortableRng {
    /// The generator for `seed`.
    pub fn seed_from_u64(seed: u64) -> PortableRng {
        PortableRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Selects one of the generator's independent streams.
    pub fn set_stream(&mut self, stream: u64) {
        self.0.set_stream(stream);
    }

    /// A value uniformly in `range`.
    pub fn gen_range<T: Portable, R: PortableRange<T>>(&mut self, range: R) -> T {
        self.0.gen_range(range)
    }

    /// An index into a slice of `len` elements (`len` > 0), drawn as a `u32`.
    pub fn index(&mut self, len: usize) -> usize {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.0.gen_range(0..len) as usize
    }

    /// `true` with probability `p`.
    pub fn gen_bool(&mut self, p: f64) -> bool {
        self.0.gen_bool(p)
    }

    /// A whole value of a fixed-width type (`f64` in [0, 1)).
    #[allow(clippy::should_implement_trait)]
    pub fn gen<T: PortableGen>(&mut self) -> T
    where
        Standard: Distribution<T>,
    {
        self.0.gen()
    }
}
