//! Test helpers shared by the codec tests.

use std::fmt::Debug;
use std::vec::Vec;

/// Returns every way of delivering `input` that the split tests use: the whole
/// input, two pieces split at every index (including empty pieces at either
/// end), and one byte per piece.
pub(crate) fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut all = Vec::new();
    all.push(std::vec![input]);
    for i in 0..=input.len() {
        let (head, tail) = input.split_at(i);
        all.push(std::vec![head, tail]);
    }
    all.push(input.chunks(1).collect());
    all
}

/// Runs `run` on the whole input and on every chunking of it, and asserts
/// that each chunking gives the same result as the whole input.
///
/// Returns the whole-input result so the caller can check it against the
/// expected value.
pub(crate) fn assert_same_at_every_split<T, F>(input: &[u8], mut run: F) -> T
where
    T: PartialEq + Debug,
    F: FnMut(&[&[u8]]) -> T,
{
    let whole = run(&[input]);
    for chunks in chunkings(input) {
        let result = run(&chunks);
        assert_eq!(
            result,
            whole,
            "input {:?} delivered in {} pieces with lengths {:?}",
            std::string::String::from_utf8_lossy(input),
            chunks.len(),
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
        );
    }
    whole
}

/// Pseudo-random byte source for property tests (xorshift64), so failures
/// are reproducible from the seed.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Returns a value in `0..bound`, or 0 when `bound` is 0.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next_u64() % bound as u64) as usize
        }
    }

    /// Returns up to `max_len` bytes drawn from `alphabet`.
    pub(crate) fn bytes_from(&mut self, alphabet: &[u8], max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}
