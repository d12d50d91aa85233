//! A deterministic stand-in for a hardware RNG. It is not random at all:
//! the proof binary is never run, and a device passes its true RNG here.

use rand_core::{CryptoRng, RngCore};

/// Returns successive values of a counter as random bytes.
pub struct CounterRng(u64);

impl CounterRng {
    /// Starts the counter at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl RngCore for CounterRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.0
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// Marked as cryptographic only so the proof links the TLS path; a real
// device must use a hardware or seeded cryptographic RNG.
impl CryptoRng for CounterRng {}
