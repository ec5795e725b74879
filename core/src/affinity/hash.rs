//! A stable 64-bit hash: the same value on every wsgate replica and version, so cookie
//! tokens and ring positions agree across processes (std's `DefaultHasher` makes no such
//! promise).

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over `bytes`, started from `seed`, then a full-avalanche finaliser.
pub fn hash64(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET ^ fmix64(seed);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_stable_and_seed_dependent() {
        // Fixed values: a change here would re-map every cookie and hash key in the field.
        assert_eq!(hash64(0, b""), fmix64(FNV_OFFSET ^ fmix64(0)));
        assert_eq!(hash64(7, b"10.0.0.1:80"), hash64(7, b"10.0.0.1:80"));
        assert_ne!(hash64(7, b"10.0.0.1:80"), hash64(8, b"10.0.0.1:80"));
        assert_ne!(hash64(7, b"10.0.0.1:80"), hash64(7, b"10.0.0.2:80"));
    }

    #[test]
    fn spreads_keys_over_buckets() {
        let mut buckets = [0u32; 8];
        for i in 0..8000u32 {
            buckets[(hash64(1, &i.to_le_bytes()) % 8) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&b| (850..1150).contains(&b)),
            "{buckets:?}"
        );
    }
}
