//! Time-stamp counter.

use dpdk_sys as sys;

/// The CPU time-stamp counter (`rte_rdtsc`). On x86-64 this is the `rdtsc`
/// instruction inline (DPDK's version is a static-inline function, which would
/// cost a call into a C wrapper); elsewhere it calls DPDK.
#[inline(always)]
pub fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc is available on every x86-64 CPU and has no side effects.
        #[allow(unused_unsafe)]
        unsafe {
            core::arch::x86_64::_rdtsc()
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // SAFETY: reads a counter; no preconditions.
        unsafe { sys::rte_rdtsc() }
    }
}

/// Time-stamp counter ticks per second (`rte_get_tsc_hz`); 0 before the EAL
/// has calibrated it.
pub fn tsc_hz() -> u64 {
    // SAFETY: reads a value computed at EAL init.
    unsafe { sys::rte_get_tsc_hz() }
}

/// Busy-waits `us` microseconds (`rte_delay_us_block`).
pub fn delay_us_block(us: u32) {
    // SAFETY: a busy loop on the TSC; no preconditions.
    unsafe { sys::rte_delay_us_block(us) }
}
