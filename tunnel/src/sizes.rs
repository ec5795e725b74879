//! Sizes of the messages a tunnel relays, counted into fixed buckets as they complete (no
//! allocation, a few comparisons per message) and reported to the meter as deltas.

/// Upper bounds (bytes, inclusive) of the message size buckets; a last bucket holds larger.
pub const MESSAGE_SIZE_BUCKETS: [u64; 8] = [64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576];

/// Messages per size bucket (not cumulative; the last entry counts messages above every
/// bound) and the sum of their sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SizeCounts {
    /// Messages per bucket of [`MESSAGE_SIZE_BUCKETS`], then those larger than all.
    pub buckets: [u32; MESSAGE_SIZE_BUCKETS.len() + 1],
    /// Sum of the message sizes (payload bytes).
    pub sum: u64,
}

impl SizeCounts {
    /// Counts one message of `size` payload bytes.
    #[inline]
    pub fn add(&mut self, size: u64) {
        let i = MESSAGE_SIZE_BUCKETS
            .iter()
            .position(|&bound| size <= bound)
            .unwrap_or(MESSAGE_SIZE_BUCKETS.len());
        self.buckets[i] = self.buckets[i].saturating_add(1);
        self.sum = self.sum.saturating_add(size);
    }

    /// Messages counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&n| u64::from(n)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_inclusive_upper_bound() {
        let mut s = SizeCounts::default();
        for size in [0, 64, 65, 1_048_576, 1_048_577] {
            s.add(size);
        }
        assert_eq!(s.buckets, [2, 1, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(s.count(), 5);
        assert_eq!(s.sum, 64 + 65 + 1_048_576 + 1_048_577);
    }
}
