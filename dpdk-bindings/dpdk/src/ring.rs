//! Single-producer/single-consumer rings of plain values (`rte_ring` with
//! `RING_F_SP_ENQ | RING_F_SC_DEQ`), e.g. to carry blocked-flow samples from a
//! worker to the control core without locks or allocation.

use std::marker::PhantomData;
use std::mem::size_of;
use std::ptr::NonNull;
use std::sync::Arc;

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{c_name, Error, Result};

struct RingInner(NonNull<sys::rte_ring>);

// SAFETY: the ring is only touched through one Producer (enqueue side) and one
// Consumer (dequeue side), which is what an SP/SC rte_ring allows across
// threads; count/capacity reads are atomic loads.
unsafe impl Send for RingInner {}
// SAFETY: see Send.
unsafe impl Sync for RingInner {}

impl Drop for RingInner {
    fn drop(&mut self) {
        // SAFETY: both ends are gone (they hold the Arc); values are Copy, so
        // leftovers need no drop.
        unsafe { sys::rte_ring_free(self.0.as_ptr()) }
    }
}

/// Creates an SP/SC ring holding up to `capacity` values of `T`, named `name`
/// (process-wide, at most 28 bytes), on NUMA `socket`. `size_of::<T>()` must
/// be a non-zero multiple of 4 (an `rte_ring` element-size rule).
pub fn spsc<T: Copy + Send + 'static>(
    name: &str,
    capacity: u32,
    socket: i32,
) -> Result<(Producer<T>, Consumer<T>)> {
    const OP: &str = "ring::spsc";
    ensure_running(OP)?;
    // SAFETY: reading an immutable C constant.
    let namesize = unsafe { sys::dpdk_shim_RING_NAMESIZE } as usize;
    let cname = c_name(OP, "ring name", name, namesize)?;
    let esize = size_of::<T>();
    if esize == 0 || esize % 4 != 0 {
        return Err(Error::invalid(
            OP,
            format!("element size {esize} is not a non-zero multiple of 4"),
        ));
    }
    if capacity == 0 || capacity > (1 << 28) {
        return Err(Error::invalid(
            OP,
            format!("capacity {capacity} is outside 1..=2^28"),
        ));
    }
    let flags = sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ | sys::RING_F_EXACT_SZ;
    // SAFETY: the EAL is running; valid name; esize checked above.
    let r =
        unsafe { sys::rte_ring_create_elem(cname.as_ptr(), esize as u32, capacity, socket, flags) };
    let r = NonNull::new(r).ok_or_else(|| {
        Error::from_rte_errno(format!("rte_ring_create_elem({name:?}, {capacity})"))
    })?;
    let inner = Arc::new(RingInner(r));
    Ok((
        Producer {
            ring: Arc::clone(&inner),
            _t: PhantomData,
        },
        Consumer {
            ring: inner,
            _t: PhantomData,
        },
    ))
}

/// The enqueue end of an SP/SC ring; owned by one thread at a time.
pub struct Producer<T> {
    ring: Arc<RingInner>,
    _t: PhantomData<fn(T)>,
}

/// The dequeue end of an SP/SC ring; owned by one thread at a time.
pub struct Consumer<T> {
    ring: Arc<RingInner>,
    _t: PhantomData<fn() -> T>,
}

// SAFETY: each end may move to another thread (T: Send); &mut self on every
// transfer method keeps a single producer and a single consumer.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: see above.
unsafe impl<T: Send> Send for Consumer<T> {}

fn count(r: &RingInner) -> u32 {
    // SAFETY: valid ring; reads head/tail atomically.
    unsafe { sys::rte_ring_count(r.0.as_ptr()) }
}

fn capacity(r: &RingInner) -> u32 {
    // SAFETY: valid ring.
    unsafe { sys::rte_ring_get_capacity(r.0.as_ptr()) }
}

impl<T: Copy + Send + 'static> Producer<T> {
    /// Enqueues as many of `items` as fit, in order; returns how many.
    #[inline]
    pub fn enqueue_burst(&mut self, items: &[T]) -> usize {
        let n = items.len().min(u32::MAX as usize) as u32;
        // SAFETY: single producer (&mut self); `items` holds n elements of
        // size_of::<T>() bytes, the ring's element size.
        unsafe {
            sys::rte_ring_enqueue_burst_elem(
                self.ring.0.as_ptr(),
                items.as_ptr().cast(),
                size_of::<T>() as u32,
                n,
                std::ptr::null_mut(),
            ) as usize
        }
    }

    /// Enqueues one value; gives it back if the ring is full.
    #[inline]
    pub fn enqueue(&mut self, item: T) -> std::result::Result<(), T> {
        if self.enqueue_burst(std::slice::from_ref(&item)) == 1 {
            Ok(())
        } else {
            Err(item)
        }
    }

    /// Values waiting in the ring.
    pub fn len(&self) -> u32 {
        count(&self.ring)
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most values the ring holds.
    pub fn capacity(&self) -> u32 {
        capacity(&self.ring)
    }
}

impl<T: Copy + Send + 'static> Consumer<T> {
    /// Dequeues up to `out.len()` values into `out`, in order; returns how many.
    #[inline]
    pub fn dequeue_burst(&mut self, out: &mut [T]) -> usize {
        let n = out.len().min(u32::MAX as usize) as u32;
        // SAFETY: single consumer (&mut self); `out` has room for n elements;
        // every element in the ring was written from a valid T, and T: Copy
        // has no drop obligations.
        unsafe {
            sys::rte_ring_dequeue_burst_elem(
                self.ring.0.as_ptr(),
                out.as_mut_ptr().cast(),
                size_of::<T>() as u32,
                n,
                std::ptr::null_mut(),
            ) as usize
        }
    }

    /// Dequeues one value.
    #[inline]
    pub fn dequeue(&mut self) -> Option<T> {
        let mut slot = std::mem::MaybeUninit::<T>::uninit();
        // SAFETY: room for one element; on success it is initialised from a T.
        let n = unsafe {
            sys::rte_ring_dequeue_burst_elem(
                self.ring.0.as_ptr(),
                slot.as_mut_ptr().cast(),
                size_of::<T>() as u32,
                1,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: n == 1 means the slot was written with a valid T.
        (n == 1).then(|| unsafe { slot.assume_init() })
    }

    /// Values waiting in the ring.
    pub fn len(&self) -> u32 {
        count(&self.ring)
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most values the ring holds.
    pub fn capacity(&self) -> u32 {
        capacity(&self.ring)
    }
}
