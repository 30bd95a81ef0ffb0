//! Memory-placement hints behind a safe interface.
//!
//! A lookup table that is read at random (the LPM roots: 16 MiB for a 1M-prefix
//! IPv4 table) misses the TLB on almost every lookup when it lives in 4 KiB pages:
//! the second-level TLB maps about 12 MiB. DPDK avoids that by putting its tables
//! in huge pages; op25b's tables live in the Rust heap, and on a machine without
//! reserved huge pages the kernel can still back them with *transparent* huge pages
//! if asked (`/sys/kernel/mm/transparent_hugepage/enabled` set to `madvise`, the
//! Debian default, or `always`). `bench/LPM.md` has the measurements.
//!
//! The project keeps `unsafe` inside `dpdk-bindings/`; this crate is where the one
//! system call lives. A hint never changes what a program computes: the memory
//! keeps its contents and its validity whatever the kernel does with it.

/// The transparent-huge-page size on x86-64 and arm64 with 4 KiB base pages.
pub const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back the memory `v` has reserved (its whole capacity, not just
/// its length) with transparent huge pages, and returns how many bytes the advice
/// covered (0 when it was not given or not taken).
///
/// Only whole 2 MiB-aligned blocks inside the reservation can become huge pages,
/// so call it right after `Vec::with_capacity` with a large capacity, before the
/// memory is written: pages the kernel has not handed out yet are then faulted in
/// as huge pages directly. Memory already touched is collapsed later, if at all, by
/// `khugepaged`. Reservations smaller than 4 MiB are left alone (at most one huge page
/// would fit, not worth the zeroing of 2 MiB at a time).
///
/// Never fails in a way that matters: a kernel without THP support, THP `never`, or
/// a platform other than Linux all mean "no advice", which is returned as 0.
pub fn advise_huge_pages<T>(v: &Vec<T>) -> usize {
    let bytes = v.capacity().saturating_mul(core::mem::size_of::<T>());
    advise_range(v.as_ptr() as usize, bytes)
}

#[cfg(target_os = "linux")]
fn advise_range(start: usize, bytes: usize) -> usize {
    if bytes < 2 * HUGE_PAGE {
        return 0;
    }
    let Some(end) = start.checked_add(bytes) else {
        return 0;
    };
    let first = start.next_multiple_of(HUGE_PAGE);
    let last = end - end % HUGE_PAGE;
    if last <= first {
        return 0;
    }
    let len = last - first;
    // SAFETY: `first..last` lies inside the allocation `v` owns (rounded inwards to
    // 2 MiB boundaries, so page-aligned as madvise requires). MADV_HUGEPAGE changes
    // only how the kernel backs the range, never its contents or whether it is
    // mapped, so the Vec's memory stays exactly as valid as before; on a kernel
    // without THP the call fails with EINVAL and nothing changes.
    let rc = unsafe { libc::madvise(first as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    if rc == 0 {
        len
    } else {
        0
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_range(_start: usize, _bytes: usize) -> usize {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_reservations_are_left_alone() {
        let v: Vec<u64> = Vec::with_capacity(1024);
        assert_eq!(advise_huge_pages(&v), 0);
        let empty: Vec<u8> = Vec::new();
        assert_eq!(advise_huge_pages(&empty), 0);
    }

    #[test]
    fn advice_covers_whole_aligned_blocks_inside_the_reservation() {
        let mut v: Vec<u8> = Vec::with_capacity(16 << 20);
        let start = v.as_ptr() as usize;
        let covered = advise_huge_pages(&v);
        // The covered length is a whole number of huge pages inside the reservation.
        assert_eq!(covered % HUGE_PAGE, 0);
        assert!(covered <= 16 << 20);
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if thp.contains("[madvise]") || thp.contains("[always]") {
            // 16 MiB from a page-aligned start holds at least 7 aligned 2 MiB blocks.
            assert!(
                covered >= 7 * HUGE_PAGE,
                "covered {covered} from {start:#x}"
            );
        }
        // The memory is still ordinary, writable memory with its contents.
        v.resize(16 << 20, 0xa5);
        assert!(v.iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn the_arithmetic_never_overflows() {
        assert_eq!(advise_range(usize::MAX - 10, usize::MAX), 0);
    }
}
