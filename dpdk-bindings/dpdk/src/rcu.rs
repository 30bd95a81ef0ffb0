//! Quiescent-state-based RCU (`rte_rcu_qsbr`).
//!
//! The control core publishes a new table (an atomic pointer swap), takes a
//! token with [`Qsbr::start`], and frees the old table once
//! [`Qsbr::check`] says every registered reader has passed a quiescent state
//! since. Each worker registers once ([`Qsbr::reader`]) and calls
//! [`QsbrReader::quiescent`] once per poll-loop iteration, at a point where it
//! holds no reference into the tables.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::Arc;

use dpdk_sys as sys;

use crate::error::{Error, Result};

/// A token from [`Qsbr::start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Token(pub u64);

/// A QSBR variable for up to `max_threads` reader threads, shareable through
/// an `Arc` between the control core and the workers.
///
/// Its memory comes from the Rust allocator (cache-line aligned, zeroed, of
/// `rte_rcu_qsbr_get_memsize` bytes), so it needs no EAL memory; the EAL need
/// not even be running.
pub struct Qsbr {
    v: NonNull<sys::rte_rcu_qsbr>,
    layout: Layout,
    max_threads: u32,
}

// SAFETY: rte_rcu_qsbr is built for concurrent use: register/unregister and
// online/offline update bitmaps and counters with atomic operations, each
// reader writes only its own counter slot, and start/check read atomically.
// Every thread id is bounds-checked here before it reaches DPDK.
unsafe impl Send for Qsbr {}
// SAFETY: see Send; all methods take &self.
unsafe impl Sync for Qsbr {}

impl std::fmt::Debug for Qsbr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qsbr")
            .field("max_threads", &self.max_threads)
            .finish()
    }
}

impl Qsbr {
    /// A QSBR variable for reader ids `0..max_threads`.
    pub fn new(max_threads: u32) -> Result<Qsbr> {
        const OP: &str = "Qsbr::new";
        if max_threads == 0 {
            return Err(Error::invalid(OP, "max_threads must be at least 1"));
        }
        // SAFETY: pure size computation.
        let size = unsafe { sys::rte_rcu_qsbr_get_memsize(max_threads) };
        if size <= 1 {
            return Err(Error::from_rte_errno(format!(
                "rte_rcu_qsbr_get_memsize({max_threads})"
            )));
        }
        let layout = Layout::from_size_align(size, sys::RTE_CACHE_LINE_SIZE as usize)
            .map_err(|e| Error::invalid(OP, format!("bad layout for {size} bytes: {e}")))?;
        // SAFETY: size > 1, so the layout is not zero-sized.
        let p = unsafe { alloc_zeroed(layout) };
        let v = NonNull::new(p.cast::<sys::rte_rcu_qsbr>())
            .ok_or_else(|| Error::invalid(OP, format!("out of memory allocating {size} bytes")))?;
        // SAFETY: v points at `size` zeroed, cache-line-aligned bytes, as
        // rte_rcu_qsbr_init requires.
        let ret = unsafe { sys::rte_rcu_qsbr_init(v.as_ptr(), max_threads) };
        if ret != 0 {
            let err = Error::from_rte_errno(format!("rte_rcu_qsbr_init({max_threads})"));
            // SAFETY: allocated above with this layout, not shared.
            unsafe { dealloc(p, layout) };
            return Err(err);
        }
        Ok(Qsbr {
            v,
            layout,
            max_threads,
        })
    }

    /// Reader ids are `0..max_threads()`.
    pub fn max_threads(&self) -> u32 {
        self.max_threads
    }

    fn check_id(&self, op: &'static str, id: u32) -> Result<()> {
        if id < self.max_threads {
            Ok(())
        } else {
            Err(Error::invalid(
                op,
                format!("reader id {id} is out of range 0..{}", self.max_threads),
            ))
        }
    }

    /// Registers reader `id` (it is then waited for once online).
    pub fn thread_register(&self, id: u32) -> Result<()> {
        self.check_id("Qsbr::thread_register", id)?;
        // SAFETY: valid variable, id in range.
        let ret = unsafe { sys::rte_rcu_qsbr_thread_register(self.v.as_ptr(), id) };
        if ret != 0 {
            return Err(Error::from_rte_errno(format!(
                "rte_rcu_qsbr_thread_register({id})"
            )));
        }
        Ok(())
    }

    /// Unregisters reader `id`.
    pub fn thread_unregister(&self, id: u32) -> Result<()> {
        self.check_id("Qsbr::thread_unregister", id)?;
        // SAFETY: valid variable, id in range.
        let ret = unsafe { sys::rte_rcu_qsbr_thread_unregister(self.v.as_ptr(), id) };
        if ret != 0 {
            return Err(Error::from_rte_errno(format!(
                "rte_rcu_qsbr_thread_unregister({id})"
            )));
        }
        Ok(())
    }

    /// Reader `id` starts reading shared data (writers wait for it again).
    pub fn thread_online(&self, id: u32) -> Result<()> {
        self.check_id("Qsbr::thread_online", id)?;
        // SAFETY: valid variable, id in range.
        unsafe { sys::rte_rcu_qsbr_thread_online(self.v.as_ptr(), id) };
        Ok(())
    }

    /// Reader `id` stops reading shared data for a while (writers stop
    /// waiting for it), e.g. before blocking.
    pub fn thread_offline(&self, id: u32) -> Result<()> {
        self.check_id("Qsbr::thread_offline", id)?;
        // SAFETY: valid variable, id in range.
        unsafe { sys::rte_rcu_qsbr_thread_offline(self.v.as_ptr(), id) };
        Ok(())
    }

    /// Reader `id` reports a quiescent state. Prefer [`QsbrReader::quiescent`]
    /// in loops: it needs no range check.
    #[inline]
    pub fn quiescent(&self, id: u32) -> Result<()> {
        self.check_id("Qsbr::quiescent", id)?;
        // SAFETY: valid variable, id in range.
        unsafe { sys::rte_rcu_qsbr_quiescent(self.v.as_ptr(), id) };
        Ok(())
    }

    /// Starts a grace period: readers online now must report a quiescent
    /// state before [`Qsbr::check`] with this token succeeds.
    pub fn start(&self) -> Token {
        // SAFETY: valid variable.
        Token(unsafe { sys::rte_rcu_qsbr_start(self.v.as_ptr()) })
    }

    /// Whether every registered online reader has passed a quiescent state
    /// since `token`. With `wait`, spins until they have (forever if an
    /// online reader never reports).
    pub fn check(&self, token: Token, wait: bool) -> bool {
        // SAFETY: valid variable.
        unsafe { sys::rte_rcu_qsbr_check(self.v.as_ptr(), token.0, wait) == 1 }
    }

    /// `start` + `check(wait = true)`. A reader calling this passes its own
    /// id so that it does not wait for itself.
    pub fn synchronize(&self, own_reader_id: Option<u32>) -> Result<()> {
        let id = match own_reader_id {
            Some(id) => {
                self.check_id("Qsbr::synchronize", id)?;
                id
            }
            None => sys::RTE_QSBR_THRID_INVALID,
        };
        // SAFETY: valid variable; id in range or the "not a reader" value.
        unsafe { sys::rte_rcu_qsbr_synchronize(self.v.as_ptr(), id) };
        Ok(())
    }

    /// Registers reader `id`, puts it online, and returns a handle that
    /// reports quiescent states without checks and goes offline and
    /// unregisters when dropped.
    pub fn reader(self: &Arc<Self>, id: u32) -> Result<QsbrReader> {
        self.thread_register(id)?;
        self.thread_online(id)?;
        Ok(QsbrReader {
            qsbr: Arc::clone(self),
            id,
            online: std::cell::Cell::new(true),
        })
    }

    /// The raw pointer, e.g. for `rte_*_rcu_qsbr_add` APIs.
    pub fn as_ptr(&self) -> *mut sys::rte_rcu_qsbr {
        self.v.as_ptr()
    }
}

impl Drop for Qsbr {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; no reader handle
        // exists (each holds an Arc), so nothing uses the memory any more.
        unsafe { dealloc(self.v.as_ptr().cast::<u8>(), self.layout) }
    }
}

/// One registered, online reader of a [`Qsbr`]; give it to the worker.
#[derive(Debug)]
pub struct QsbrReader {
    qsbr: Arc<Qsbr>,
    id: u32,
    // Whether the reader is online: only an online reader may read an
    // [`RcuCell`] (an offline one is not waited for by writers).
    online: std::cell::Cell<bool>,
}

impl QsbrReader {
    /// The reader id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The variable it belongs to.
    pub fn qsbr(&self) -> &Arc<Qsbr> {
        &self.qsbr
    }

    /// Reports a quiescent state (once per poll-loop iteration).
    #[inline]
    pub fn quiescent(&self) {
        // SAFETY: the id was range-checked when the reader was created.
        unsafe { sys::rte_rcu_qsbr_quiescent(self.qsbr.v.as_ptr(), self.id) }
    }

    /// Goes offline (before blocking or sleeping).
    pub fn offline(&self) {
        self.online.set(false);
        // SAFETY: id range-checked at creation.
        unsafe { sys::rte_rcu_qsbr_thread_offline(self.qsbr.v.as_ptr(), self.id) }
    }

    /// Comes back online (before touching shared data again).
    pub fn online(&self) {
        // SAFETY: id range-checked at creation.
        unsafe { sys::rte_rcu_qsbr_thread_online(self.qsbr.v.as_ptr(), self.id) }
        self.online.set(true);
    }
}

impl Drop for QsbrReader {
    fn drop(&mut self) {
        self.offline();
        // Unregistering an id in range cannot fail.
        let _ = self.qsbr.thread_unregister(self.id);
    }
}

/// A value published by one writer and read by QSBR readers without locks:
/// readers get a plain `&T` for the current value; a writer swaps in a new
/// value with an atomic pointer exchange and gets the old one back only after
/// every online reader has passed a quiescent state (the grace period), when no
/// reader can still hold a reference to it.
///
/// This is how the control core publishes new tables to the workers.
pub struct RcuCell<T> {
    ptr: std::sync::atomic::AtomicPtr<T>,
    qsbr: Arc<Qsbr>,
    // Serializes writers; readers never touch it.
    writer: std::sync::Mutex<()>,
}

// SAFETY: the cell hands out &T to reader threads (T: Sync) and moves T
// between threads on publish (T: Send); the pointer itself is atomic.
unsafe impl<T: Send + Sync> Send for RcuCell<T> {}
// SAFETY: as for Send.
unsafe impl<T: Send + Sync> Sync for RcuCell<T> {}

/// How long a publication took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The wait for the grace period.
    pub grace: std::time::Duration,
}

impl<T: Send + Sync> RcuCell<T> {
    /// A cell holding `value`, read by readers of `qsbr`.
    pub fn new(value: Box<T>, qsbr: Arc<Qsbr>) -> Self {
        RcuCell {
            ptr: std::sync::atomic::AtomicPtr::new(Box::into_raw(value)),
            qsbr,
            writer: std::sync::Mutex::new(()),
        }
    }

    /// The current value, for an online reader of this cell's QSBR variable.
    /// The reference lives as long as the borrows of the cell and of `reader`, so the
    /// reader cannot report a quiescent state (or go offline) while it holds it.
    ///
    /// # Panics
    /// If `reader` belongs to another QSBR variable or is offline: either would
    /// let a writer free the value under the reference.
    #[inline]
    pub fn read<'a>(&'a self, reader: &'a mut QsbrReader) -> &'a T {
        assert!(
            Arc::ptr_eq(&reader.qsbr, &self.qsbr) && reader.online.get(),
            "RcuCell::read needs an online reader of the cell's own QSBR variable"
        );
        let p = self.ptr.load(std::sync::atomic::Ordering::Acquire);
        // SAFETY: p came from Box::into_raw and is freed only by `publish`
        // after a grace period that this online reader must first pass by
        // calling quiescent(), which the &'a mut borrow forbids while the
        // reference lives.
        unsafe { &*p }
    }

    /// The current value, for the writer side (the control core): valid while
    /// the returned guard holds the writer lock, so no publish can free it.
    pub fn with_current<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: only `publish` frees values, and it needs the writer lock.
        f(unsafe { &*self.ptr.load(std::sync::atomic::Ordering::Acquire) })
    }

    /// Publishes `value`, waits for the grace period, and returns the previous
    /// value, which no reader can still see. Writers are serialized. Must not
    /// be called by a thread that is itself an online reader of the variable.
    pub fn publish(&self, value: Box<T>) -> (Box<T>, Published) {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let old = self
            .ptr
            .swap(Box::into_raw(value), std::sync::atomic::Ordering::AcqRel);
        let t0 = std::time::Instant::now();
        let token = self.qsbr.start();
        self.qsbr.check(token, true);
        let grace = t0.elapsed();
        // SAFETY: `old` came from Box::into_raw; after the swap no new reader
        // can load it, and the grace period guarantees every reader that
        // loaded it before has since passed a quiescent state.
        (unsafe { Box::from_raw(old) }, Published { grace })
    }
}

impl<T> Drop for RcuCell<T> {
    fn drop(&mut self) {
        // SAFETY: dropping the cell needs &mut, so no reader borrow of it is
        // alive; the pointer came from Box::into_raw.
        drop(unsafe { Box::from_raw(*self.ptr.get_mut()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    // rte_rcu_qsbr needs no EAL, so these run as ordinary unit tests.

    #[test]
    fn reader_ids_are_range_checked() {
        let q = Qsbr::new(2).unwrap();
        assert!(q.thread_register(2).is_err());
        assert!(q.thread_online(7).is_err());
        assert!(q.quiescent(u32::MAX).is_err());
        assert!(q.synchronize(Some(2)).is_err());
        assert!(Arc::new(Qsbr::new(2).unwrap()).reader(5).is_err());
    }

    #[test]
    fn online_reader_holds_the_grace_period_until_quiescent() {
        let q = Arc::new(Qsbr::new(3).unwrap());
        let r = q.reader(2).unwrap();
        let t = q.start();
        assert!(!q.check(t, false));
        r.quiescent();
        assert!(q.check(t, false));
        let t2 = q.start();
        assert!(t2 > t);
        r.offline();
        assert!(q.check(t2, false));
    }

    #[test]
    fn writer_waits_for_reader_threads() {
        let q = Arc::new(Qsbr::new(4).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..2)
            .map(|id| {
                let (q, stop) = (Arc::clone(&q), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let r = q.reader(id).unwrap();
                    while !stop.load(Ordering::Acquire) {
                        r.quiescent();
                    }
                })
            })
            .collect();
        for _ in 0..50 {
            let t = q.start();
            assert!(q.check(t, true));
        }
        stop.store(true, Ordering::Release);
        for h in handles {
            h.join().unwrap();
        }
        // Readers unregistered on drop: nothing holds a new grace period.
        let t = q.start();
        assert!(q.check(t, false));
    }

    #[test]
    fn rcu_cell_readers_see_whole_values_and_every_old_value_is_freed_once() {
        use std::sync::atomic::AtomicUsize;
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Gen(Vec<u64>);
        impl Drop for Gen {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        let qsbr = Arc::new(Qsbr::new(4).unwrap());
        let cell = Arc::new(RcuCell::new(Box::new(Gen(vec![0; 64])), qsbr.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for id in 0..2 {
            let (cell, stop, mut r) = (cell.clone(), stop.clone(), qsbr.reader(id).unwrap());
            readers.push(std::thread::spawn(move || {
                let mut last = 0;
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let g = cell.read(&mut r);
                    let v = g.0[0];
                    assert!(g.0.iter().all(|&x| x == v), "torn value");
                    assert!(v >= last, "went back from {last} to {v}");
                    last = v;
                    reads += 1;
                    r.quiescent();
                }
                reads
            }));
        }
        for gen in 1..=500u64 {
            let (old, _) = cell.publish(Box::new(Gen(vec![gen; 64])));
            assert_eq!(old.0[0], gen - 1);
            // After publish returns, a reader's next read sees `gen` or later.
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            500,
            "each replaced value dropped once"
        );
        cell.with_current(|g| assert_eq!(g.0[0], 500));
        drop(cell);
        assert_eq!(DROPS.load(Ordering::SeqCst), 501);
    }

    #[test]
    #[should_panic(expected = "online reader")]
    fn rcu_cell_refuses_an_offline_reader() {
        let qsbr = Arc::new(Qsbr::new(1).unwrap());
        let cell = RcuCell::new(Box::new(1u32), qsbr.clone());
        let mut r = qsbr.reader(0).unwrap();
        r.offline();
        let _ = cell.read(&mut r);
    }
}
