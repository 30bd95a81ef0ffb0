//! Per-burst software residence time: TSC cycles from a burst's rx_burst return
//! to the end of its tx, recorded by the worker into fixed log-linear buckets
//! (lock-free, no allocation) and turned into an HdrHistogram by the control core.

use crate::stats::Counter;

/// Sub-buckets per power of two: about 6% resolution.
const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
/// Enough for 2^48 cycles (a day at 3 GHz).
pub const BUCKETS: usize = (48 - SUB_BITS as usize + 1) * SUB;

/// One worker's latency buckets.
#[derive(Debug)]
#[repr(align(64))]
pub struct LatencyBuckets {
    pub counts: Box<[Counter]>,
}

impl Default for LatencyBuckets {
    fn default() -> Self {
        LatencyBuckets {
            counts: (0..BUCKETS).map(|_| Counter::default()).collect(),
        }
    }
}

/// The bucket of a value: exact below 2*SUB, then SUB buckets per power of two.
#[inline]
pub fn bucket(v: u64) -> usize {
    if v < (2 * SUB) as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = msb - SUB_BITS;
    let idx = ((shift as usize + 1) << SUB_BITS) + ((v >> shift) as usize & (SUB - 1));
    idx.min(BUCKETS - 1)
}

/// The lowest value of a bucket (inverse of [`bucket`]).
pub fn bucket_low(i: usize) -> u64 {
    if i < 2 * SUB {
        return i as u64;
    }
    let shift = (i >> SUB_BITS) as u32 - 1;
    ((SUB as u64) | (i & (SUB - 1)) as u64) << shift
}

impl LatencyBuckets {
    #[inline]
    pub fn record(&self, cycles: u64) {
        self.counts[bucket(cycles)].bump(1);
    }

    /// Adds these buckets to an HdrHistogram of nanoseconds, each bucket at its
    /// midpoint.
    pub fn add_to(&self, h: &mut hdrhistogram::Histogram<u64>, tsc_hz: u64) {
        for (i, c) in self.counts.iter().enumerate() {
            let n = c.get();
            if n == 0 {
                continue;
            }
            let lo = bucket_low(i);
            let hi = if i + 1 < BUCKETS {
                bucket_low(i + 1)
            } else {
                lo + 1
            };
            let mid = (lo + hi.max(lo + 1) - 1) / 2;
            let ns = (u128::from(mid) * 1_000_000_000 / u128::from(tsc_hz.max(1))) as u64;
            h.saturating_record_n(ns.max(1), n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_their_values() {
        let mut last = 0;
        for v in (0..100_000u64).chain([1 << 30, 1 << 40, u64::MAX]) {
            let b = bucket(v);
            assert!(b >= last || v > 100_000, "{v}");
            last = b;
            assert!(
                bucket_low(b) <= v,
                "{v} below bucket {b} low {}",
                bucket_low(b)
            );
            if b + 1 < BUCKETS {
                assert!(v < bucket_low(b + 1), "{v} beyond bucket {b}");
            }
        }
    }

    #[test]
    fn percentiles_come_out_within_the_bucket_resolution() {
        let l = LatencyBuckets::default();
        for v in 1..=1000u64 {
            l.record(v * 1000); // 1 µs .. 1 ms at a 1 GHz clock
        }
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        l.add_to(&mut h, 1_000_000_000);
        let p50 = h.value_at_quantile(0.5) as f64;
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.07, "p50 {p50}");
        assert_eq!(h.len(), 1000);
    }
}
