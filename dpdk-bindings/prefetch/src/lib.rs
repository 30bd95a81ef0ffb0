//! Software prefetch hints behind a safe interface.
//!
//! The project keeps `unsafe` inside `dpdk-bindings/`; this crate is the one place
//! where lookup structures elsewhere (the `lpm` crate) get an explicit prefetch,
//! the way DPDK's bulk lookups use `rte_prefetch0`. It depends on nothing (not on
//! DPDK) and is `no_std`.
//!
//! A prefetch is a hint: it never faults, never changes what a program computes and
//! may be dropped by the CPU. On x86-64 it is `PREFETCHT0` (into every cache level);
//! on other architectures these functions do nothing.

#![no_std]

/// Hints the CPU to bring the cache line holding `*p` into all cache levels for a
/// coming read.
///
/// Taking a reference means the address is valid anyway; the hint itself could not
/// fault even if it were not.
#[inline(always)]
pub fn prefetch_read<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is `unsafe` only because it is an intrinsic with a
    // target-feature attribute (SSE, part of the x86-64 baseline, so always present
    // on this architecture). PREFETCHT0 is a hint that architecturally never faults
    // and has no effect on memory contents or program results; `p` comes from a
    // reference, so it points at a live object in any case.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (p as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch_read`] of `slice[i]`; does nothing when `i` is out of bounds, so a
/// caller may prefetch ahead without checking where the slice ends.
#[inline(always)]
pub fn prefetch_read_slice<T>(slice: &[T], i: usize) {
    if let Some(p) = slice.get(i) {
        prefetch_read(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_never_changes_the_data() {
        let data: [u64; 4] = [1, 2, 3, 4];
        prefetch_read(&data[2]);
        prefetch_read(&data);
        assert_eq!(data, [1, 2, 3, 4]);
    }

    #[test]
    fn prefetching_past_the_end_of_a_slice_is_ignored() {
        let data = [7u32; 3];
        prefetch_read_slice(&data, 0);
        prefetch_read_slice(&data, 3);
        prefetch_read_slice(&data, usize::MAX);
        let empty: [u8; 0] = [];
        prefetch_read_slice(&empty, 0);
        assert_eq!(data, [7; 3]);
    }

    #[test]
    fn zero_sized_values_can_be_prefetched() {
        let unit = ();
        prefetch_read(&unit);
        prefetch_read_slice(&[(); 2], 1);
    }
}
