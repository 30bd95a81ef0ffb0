//! Packet-buffer pools.

use std::ffi::CStr;
use std::ptr::NonNull;

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{c_name, Error, Result};

/// A handle to a DPDK mempool of packet buffers (`rte_mempool`).
///
/// The handle is `Copy`: pools live until the EAL is cleaned up (ports keep
/// refilling their receive rings from them, and every mbuf points back to its
/// pool), as in DPDK's own applications. [`Mempool::free`] exists for tools
/// that need to give memory back and can prove nothing uses the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mempool(NonNull<sys::rte_mempool>);

// SAFETY: a mempool is designed to be shared by all lcores: get/put go through
// per-lcore caches and a lock-free ring (non-EAL threads bypass the cache);
// the counters read here are atomics or are read racily by design.
unsafe impl Send for Mempool {}
// SAFETY: see Send; every method takes &self and is safe to call concurrently.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `n` packet mbufs (`rte_pktmbuf_pool_create`) with a
    /// per-lcore cache of `cache` objects, `data_room` bytes of buffer per
    /// mbuf (headroom included: use [`DEFAULT_DATA_ROOM`] for standard
    /// frames), on NUMA `socket` ([`crate::SOCKET_ID_ANY`] for any). Names are
    /// process-wide and at most 25 bytes. `n` is best a power of two minus one.
    pub fn pktmbuf_pool(
        name: &str,
        n: u32,
        cache: u32,
        data_room: u16,
        socket: i32,
    ) -> Result<Mempool> {
        const OP: &str = "Mempool::pktmbuf_pool";
        ensure_running(OP)?;
        // SAFETY: reading an immutable C constant.
        let namesize = unsafe { sys::dpdk_shim_MEMPOOL_NAMESIZE } as usize;
        let cname = c_name(OP, "pool name", name, namesize)?;
        if n == 0 {
            return Err(Error::invalid(OP, "a pool needs at least one mbuf"));
        }
        if cache > sys::RTE_MEMPOOL_CACHE_MAX_SIZE {
            return Err(Error::invalid(
                OP,
                format!(
                    "cache size {cache} exceeds RTE_MEMPOOL_CACHE_MAX_SIZE ({})",
                    sys::RTE_MEMPOOL_CACHE_MAX_SIZE
                ),
            ));
        }
        if u64::from(cache) * 3 / 2 > u64::from(n) {
            return Err(Error::invalid(
                OP,
                format!("cache size {cache} is too large for {n} mbufs (at most n / 1.5)"),
            ));
        }
        if u32::from(data_room) < sys::RTE_PKTMBUF_HEADROOM {
            return Err(Error::invalid(
                OP,
                format!(
                    "data room {data_room} is smaller than the mbuf headroom ({})",
                    sys::RTE_PKTMBUF_HEADROOM
                ),
            ));
        }
        // SAFETY: the EAL is running and the name is a valid C string; DPDK
        // copies it.
        let p =
            unsafe { sys::rte_pktmbuf_pool_create(cname.as_ptr(), n, cache, 0, data_room, socket) };
        NonNull::new(p).map(Mempool).ok_or_else(|| {
            Error::from_rte_errno(format!("rte_pktmbuf_pool_create({name:?}, n={n})"))
        })
    }

    /// Finds an existing pool by name.
    pub fn lookup(name: &str) -> Result<Mempool> {
        const OP: &str = "Mempool::lookup";
        ensure_running(OP)?;
        // SAFETY: reading an immutable C constant.
        let namesize = unsafe { sys::dpdk_shim_MEMPOOL_NAMESIZE } as usize;
        let cname = c_name(OP, "pool name", name, namesize)?;
        // SAFETY: valid C string; the EAL is running.
        let p = unsafe { sys::rte_mempool_lookup(cname.as_ptr()) };
        NonNull::new(p)
            .map(Mempool)
            .ok_or_else(|| Error::from_rte_errno(format!("rte_mempool_lookup({name:?})")))
    }

    /// The pool's name.
    pub fn name(&self) -> String {
        // SAFETY: the pool is valid and `name` is a NUL-terminated array in it.
        unsafe { CStr::from_ptr((*self.0.as_ptr()).name.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    /// How many mbufs the pool holds in total.
    pub fn size(&self) -> u32 {
        // SAFETY: the pool is valid; `size` is set at creation and never changes.
        unsafe { (*self.0.as_ptr()).size }
    }

    /// Mbufs currently allocated (in flight, in receive rings, or leaked).
    /// Like DPDK's function, this is a snapshot and may be slightly off while
    /// other lcores allocate.
    pub fn in_use_count(&self) -> u32 {
        // SAFETY: the pool is valid.
        unsafe { sys::rte_mempool_in_use_count(self.0.as_ptr()) }
    }

    /// Mbufs available for allocation (ring plus lcore caches).
    pub fn avail_count(&self) -> u32 {
        // SAFETY: the pool is valid.
        unsafe { sys::rte_mempool_avail_count(self.0.as_ptr()) }
    }

    /// The raw pointer, for calls this crate does not wrap.
    #[inline]
    pub fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.0.as_ptr()
    }

    /// Frees the pool (`rte_mempool_free`).
    ///
    /// # Safety
    /// No mbuf of this pool may exist any more (including those in the rings
    /// of ports whose queues were set up with it: close those ports first),
    /// and no copy of this handle may be used afterwards.
    pub unsafe fn free(self) {
        // SAFETY: guaranteed by the caller.
        unsafe { sys::rte_mempool_free(self.0.as_ptr()) }
    }
}

/// Default data room of a packet mbuf: 2048 bytes plus the 128-byte headroom
/// (`RTE_MBUF_DEFAULT_BUF_SIZE`), enough for a 1518-byte frame.
pub const DEFAULT_DATA_ROOM: u16 = sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16;
