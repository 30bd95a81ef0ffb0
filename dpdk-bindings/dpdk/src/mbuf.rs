//! Mbuf views: an owned packet buffer ([`Mbuf`]) and a fixed-size, allocation
//! free batch of them ([`Burst`]).
//!
//! Hot accessors read the `rte_mbuf` fields directly (`buf_addr`, `data_off`,
//! `data_len`, `pkt_len`, `nb_segs`, `next`): that is what DPDK's own inline
//! functions do, and it avoids one call into a C wrapper per packet, which no
//! LTO can inline. Operations with real logic (alloc, free, append, prepend,
//! adj, trim, chain, reset) call DPDK through the generated static-inline
//! wrappers.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use dpdk_sys as sys;

use crate::mempool::Mempool;

/// An owned packet mbuf (possibly a chain of segments).
///
/// Invariants: the pointer is a valid packet mbuf that this value owns
/// exclusively (nobody else reads or writes its data while it exists), and the
/// first segment's data lies inside its buffer. Dropping it returns the whole
/// chain to its pool (`rte_pktmbuf_free`).
#[repr(transparent)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: an Mbuf is exclusively owned; moving it to another lcore moves that
// ownership, and freeing it from any thread is allowed (mempool puts are
// thread safe; threads without an lcore id bypass the per-lcore cache).
unsafe impl Send for Mbuf {}
// SAFETY: &Mbuf only gives read access to fields and data.
unsafe impl Sync for Mbuf {}

impl std::fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mbuf")
            .field("ptr", &self.0)
            .field("data_len", &self.data_len())
            .field("pkt_len", &self.pkt_len())
            .field("nb_segs", &self.nb_segs())
            .finish()
    }
}

impl Mbuf {
    /// Allocates and resets an mbuf from `pool`; `None` when the pool is empty.
    #[inline]
    pub fn alloc(pool: &Mempool) -> Option<Mbuf> {
        // SAFETY: the pool is a valid packet mbuf pool; a new mbuf is ours alone.
        NonNull::new(unsafe { sys::rte_pktmbuf_alloc(pool.as_ptr()) }).map(Mbuf)
    }

    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `m` must be a valid packet mbuf owned by the caller and not used
    /// through any other pointer afterwards; its data must not be shared with
    /// a clone or indirect mbuf that someone else still uses.
    #[inline]
    pub unsafe fn from_raw(m: NonNull<sys::rte_mbuf>) -> Mbuf {
        Mbuf(m)
    }

    /// Gives up ownership; the caller must eventually free the mbuf or hand
    /// it to DPDK.
    #[inline]
    pub fn into_raw(self) -> NonNull<sys::rte_mbuf> {
        ManuallyDrop::new(self).0
    }

    /// The raw pointer (ownership stays here).
    #[inline]
    pub fn as_ptr(&self) -> *mut sys::rte_mbuf {
        self.0.as_ptr()
    }

    #[inline]
    fn raw(&self) -> &sys::rte_mbuf {
        // SAFETY: type invariant: valid mbuf, no one else writes it.
        unsafe { self.0.as_ref() }
    }

    /// Bytes of data in the first segment.
    #[inline]
    pub fn data_len(&self) -> u16 {
        self.raw().data_len
    }

    /// Bytes of data in the whole chain, as recorded in the first segment.
    #[inline]
    pub fn pkt_len(&self) -> u32 {
        self.raw().pkt_len
    }

    /// Number of segments.
    #[inline]
    pub fn nb_segs(&self) -> u16 {
        self.raw().nb_segs
    }

    /// Whether the packet is a single segment (`rte_pktmbuf_is_contiguous`).
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.raw().nb_segs == 1
    }

    /// The port the packet was received on (set by the PMD).
    #[inline]
    pub fn port(&self) -> u16 {
        self.raw().port
    }

    /// Free bytes before the data in the first segment.
    #[inline]
    pub fn headroom(&self) -> u16 {
        self.raw().data_off
    }

    /// Free bytes after the data in the first segment.
    #[inline]
    pub fn tailroom(&self) -> u16 {
        let m = self.raw();
        m.buf_len
            .saturating_sub(m.data_off)
            .saturating_sub(m.data_len)
    }

    /// Size of the first segment's buffer.
    #[inline]
    pub fn buf_len(&self) -> u16 {
        self.raw().buf_len
    }

    /// The RSS hash computed by the NIC, if it set one.
    #[inline]
    pub fn rss_hash(&self) -> Option<u32> {
        let m = self.raw();
        if m.ol_flags & u64::from(sys::RTE_MBUF_F_RX_RSS_HASH) != 0 {
            // SAFETY: the flag says the `rss` member of the hash union is set;
            // every member is plain integers, so any bits are a valid u32.
            Some(unsafe { m.__bindgen_anon_2.hash.rss })
        } else {
            None
        }
    }

    /// The packet type the PMD recognised (`RTE_PTYPE_*` bits), 0 if none.
    #[inline]
    pub fn packet_type(&self) -> u32 {
        // SAFETY: union of a u32 and bitfields over the same 4 bytes.
        unsafe { self.raw().__bindgen_anon_1.packet_type }
    }

    /// The first segment's data.
    #[inline]
    pub fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: type invariant: buf_addr + data_off .. + data_len lies inside
        // the segment's buffer, which lives as long as the mbuf.
        unsafe {
            std::slice::from_raw_parts(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                usize::from(m.data_len),
            )
        }
    }

    /// The first segment's data, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw();
        let (addr, off, len) = (
            m.buf_addr.cast::<u8>(),
            usize::from(m.data_off),
            usize::from(m.data_len),
        );
        // SAFETY: as in `data`; &mut self plus exclusive ownership (type
        // invariant) make this the only access to the bytes.
        unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) }
    }

    /// Appends `len` bytes at the end of the last segment
    /// (`rte_pktmbuf_append`) and returns them (contents unspecified);
    /// `None` if the last segment lacks tailroom.
    #[inline]
    pub fn append(&mut self, len: u16) -> Option<&mut [u8]> {
        // SAFETY: valid owned mbuf; DPDK checks the tailroom.
        let p = unsafe { sys::rte_pktmbuf_append(self.as_ptr(), len) };
        // SAFETY: on success p points at `len` bytes inside the last segment's
        // buffer, owned by us.
        NonNull::new(p.cast::<u8>())
            .map(|p| unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), usize::from(len)) })
    }

    /// Prepends `len` bytes before the data of the first segment
    /// (`rte_pktmbuf_prepend`) and returns them (contents unspecified);
    /// `None` if there is not enough headroom.
    #[inline]
    pub fn prepend(&mut self, len: u16) -> Option<&mut [u8]> {
        // SAFETY: valid owned mbuf; DPDK checks the headroom.
        let p = unsafe { sys::rte_pktmbuf_prepend(self.as_ptr(), len) };
        // SAFETY: on success p points at `len` bytes in the first segment.
        NonNull::new(p.cast::<u8>())
            .map(|p| unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), usize::from(len)) })
    }

    /// Removes `len` bytes from the start of the first segment
    /// (`rte_pktmbuf_adj`); `false` (nothing changed) if it has fewer.
    #[inline]
    pub fn adj(&mut self, len: u16) -> bool {
        // SAFETY: valid owned mbuf; DPDK checks the length.
        !unsafe { sys::rte_pktmbuf_adj(self.as_ptr(), len) }.is_null()
    }

    /// Removes `len` bytes from the end of the last segment
    /// (`rte_pktmbuf_trim`); `false` (nothing changed) if it has fewer.
    #[inline]
    pub fn trim(&mut self, len: u16) -> bool {
        // SAFETY: valid owned mbuf; DPDK checks the length.
        unsafe { sys::rte_pktmbuf_trim(self.as_ptr(), len) == 0 }
    }

    /// Appends the segments of `tail` to this packet (`rte_pktmbuf_chain`).
    /// Gives `tail` back if the chain would exceed DPDK's segment limit.
    pub fn chain(&mut self, tail: Mbuf) -> Result<(), Mbuf> {
        let t = tail.as_ptr();
        // SAFETY: both are valid owned mbufs; on success the head owns the
        // tail's segments, so ownership of `tail` passes to `self`.
        if unsafe { sys::rte_pktmbuf_chain(self.as_ptr(), t) } == 0 {
            std::mem::forget(tail);
            Ok(())
        } else {
            Err(tail)
        }
    }

    /// Frees every segment after the first and resets the first to an empty
    /// packet with default headroom (`rte_pktmbuf_reset`).
    pub fn reset(&mut self) {
        let m = self.as_ptr();
        // SAFETY: valid owned mbuf; the rest of the chain is ours, is freed
        // exactly once, and is unlinked before the reset.
        unsafe {
            let next = (*m).next;
            if !next.is_null() {
                (*m).next = std::ptr::null_mut();
                sys::rte_pktmbuf_free(next);
            }
            sys::rte_pktmbuf_reset(m);
        }
    }

    /// Sets the first segment's data length; `false` (nothing changed) if the
    /// data would run past the end of the buffer. Does not touch `pkt_len`.
    #[inline]
    pub fn set_data_len(&mut self, len: u16) -> bool {
        let m = self.as_ptr();
        // SAFETY: valid owned mbuf; the bound check keeps the invariant that
        // the data lies inside the buffer.
        unsafe {
            if u32::from((*m).data_off) + u32::from(len) > u32::from((*m).buf_len) {
                return false;
            }
            (*m).data_len = len;
        }
        true
    }

    /// Sets the packet length. It must equal the sum of the segments' data
    /// lengths before the mbuf is transmitted; nothing in this crate trusts it
    /// for memory accesses.
    #[inline]
    pub fn set_pkt_len(&mut self, len: u32) {
        // SAFETY: valid owned mbuf; pkt_len is plain metadata.
        unsafe { (*self.as_ptr()).pkt_len = len }
    }

    /// Sets both lengths of a single-segment packet; `false` (nothing
    /// changed) if the packet is chained or `len` does not fit the buffer.
    #[inline]
    pub fn set_len(&mut self, len: u16) -> bool {
        if !self.is_contiguous() || !self.set_data_len(len) {
            return false;
        }
        self.set_pkt_len(u32::from(len));
        true
    }

    /// The data of each segment in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments {
            next: self.as_ptr(),
            _owner: std::marker::PhantomData,
        }
    }

    /// Copies packet bytes starting at `offset` across segments into `out`;
    /// returns how many were copied (less than `out.len()` at the end of the
    /// data). Walks the real chain, so an inconsistent `pkt_len` cannot make
    /// it read out of bounds.
    pub fn copy_to(&self, offset: usize, out: &mut [u8]) -> usize {
        let mut skip = offset;
        let mut done = 0;
        for seg in self.segments() {
            if done == out.len() {
                break;
            }
            if skip >= seg.len() {
                skip -= seg.len();
                continue;
            }
            let n = (seg.len() - skip).min(out.len() - done);
            out[done..done + n].copy_from_slice(&seg[skip..skip + n]);
            done += n;
            skip = 0;
        }
        done
    }

    /// `len` bytes at `offset`, like `rte_pktmbuf_read`: a slice of the
    /// segment when the range lies in one segment, else a copy in `scratch`
    /// (which must hold `len` bytes). `None` if the packet is shorter or
    /// `scratch` too small for a copy.
    #[inline]
    pub fn read<'a>(
        &'a self,
        offset: usize,
        len: usize,
        scratch: &'a mut [u8],
    ) -> Option<&'a [u8]> {
        let first = self.data();
        if let Some(end) = offset.checked_add(len) {
            if end <= first.len() {
                return Some(&first[offset..end]);
            }
        }
        let buf = scratch.get_mut(..len)?;
        (self.copy_to(offset, buf) == len).then_some(&*buf)
    }
}

impl Drop for Mbuf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own the mbuf chain; it is freed exactly once.
        unsafe { sys::rte_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// Iterator over the data of an mbuf's segments; see [`Mbuf::segments`].
pub struct Segments<'a> {
    next: *mut sys::rte_mbuf,
    _owner: std::marker::PhantomData<&'a Mbuf>,
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: every segment of an owned chain is a valid mbuf owned along
        // with the head, borrowed for 'a; DPDK keeps each segment's data
        // inside its buffer.
        unsafe {
            let m = &*self.next;
            self.next = m.next;
            Some(std::slice::from_raw_parts(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                usize::from(m.data_len),
            ))
        }
    }
}

/// Most mbufs one [`Burst`] holds; the usual DPDK burst is 32.
pub const MAX_BURST: usize = 64;

/// A fixed-capacity batch of owned mbufs, with no heap allocation: what a
/// worker receives into, classifies and transmits from. Dropping it frees what
/// it still holds (`rte_pktmbuf_free_bulk`).
pub struct Burst {
    len: usize,
    // Invariant: bufs[..len] are valid mbufs owned by this Burst.
    bufs: [*mut sys::rte_mbuf; MAX_BURST],
}

// SAFETY: a Burst owns its mbufs exactly like a [Mbuf] would.
unsafe impl Send for Burst {}
// SAFETY: &Burst only reads.
unsafe impl Sync for Burst {}

impl Default for Burst {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Burst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Burst {
    /// An empty burst.
    pub const fn new() -> Self {
        Burst {
            len: 0,
            bufs: [std::ptr::null_mut(); MAX_BURST],
        }
    }

    /// Number of mbufs held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it is full ([`MAX_BURST`]).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == MAX_BURST
    }

    /// Room left.
    #[inline]
    pub fn spare(&self) -> usize {
        MAX_BURST - self.len
    }

    /// The mbufs as a slice.
    #[inline]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: Mbuf is repr(transparent) over NonNull<rte_mbuf>, which has
        // the layout of *mut rte_mbuf; bufs[..len] are non-null owned mbufs.
        unsafe { std::slice::from_raw_parts(self.bufs.as_ptr().cast::<Mbuf>(), self.len) }
    }

    /// The mbufs as a mutable slice (reorder them, edit their data).
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as in as_slice; swapping Mbufs within the slice keeps every
        // slot a valid owned mbuf.
        unsafe { std::slice::from_raw_parts_mut(self.bufs.as_mut_ptr().cast::<Mbuf>(), self.len) }
    }

    /// Adds an mbuf at the end; gives it back when full.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        if self.len == MAX_BURST {
            return Err(m);
        }
        self.bufs[self.len] = m.into_raw().as_ptr();
        self.len += 1;
        Ok(())
    }

    /// Removes the last mbuf.
    #[inline]
    pub fn pop(&mut self) -> Option<Mbuf> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: slot `len` held an owned mbuf; ownership moves out and the
        // slot is no longer covered by the invariant.
        Some(Mbuf(unsafe { NonNull::new_unchecked(self.bufs[self.len]) }))
    }

    /// Removes mbuf `i`, replacing it with the last one; `None` if out of range.
    #[inline]
    pub fn swap_remove(&mut self, i: usize) -> Option<Mbuf> {
        if i >= self.len {
            return None;
        }
        self.bufs.swap(i, self.len - 1);
        self.pop()
    }

    /// Keeps the mbufs for which `keep` returns true (in order) and frees the rest.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut Mbuf) -> bool) {
        let mut w = 0;
        for r in 0..self.len {
            // SAFETY: slot r (r >= w) holds an owned mbuf; it is either moved to
            // slot w or freed, so each mbuf ends up owned exactly once.
            let mut m = Mbuf(unsafe { NonNull::new_unchecked(self.bufs[r]) });
            if keep(&mut m) {
                self.bufs[w] = m.into_raw().as_ptr();
                w += 1;
            } else {
                drop(m);
            }
        }
        self.len = w;
    }

    /// Frees every mbuf (`rte_pktmbuf_free_bulk`).
    #[inline]
    pub fn clear(&mut self) {
        if self.len > 0 {
            // SAFETY: bufs[..len] are owned valid mbufs, freed exactly once;
            // len is reset before anything can observe them again.
            unsafe { sys::rte_pktmbuf_free_bulk(self.bufs.as_mut_ptr(), self.len as u32) };
            self.len = 0;
        }
    }

    /// Moves every mbuf into `other` as far as it has room; returns how many moved.
    #[inline]
    pub fn move_into(&mut self, other: &mut Burst) -> usize {
        let n = self.len.min(other.spare());
        other.bufs[other.len..other.len + n].copy_from_slice(&self.bufs[..n]);
        other.len += n;
        self.consume_front(n);
        n
    }

    /// Takes every mbuf out, in order; what the iterator has not yielded when
    /// it is dropped is freed. The burst is empty afterwards.
    #[inline]
    pub fn drain(&mut self) -> Drain<'_> {
        Drain {
            burst: self,
            next: 0,
        }
    }

    /// Raw pointers to the held mbufs (ownership stays with the burst).
    #[inline]
    pub(crate) fn raw_slice(&self) -> &[*mut sys::rte_mbuf] {
        &self.bufs[..self.len]
    }

    /// Spare raw slots to receive into; pair with [`Burst::commit`].
    #[inline]
    pub(crate) fn spare_raw(&mut self) -> &mut [*mut sys::rte_mbuf] {
        &mut self.bufs[self.len..]
    }

    /// # Safety
    /// The first `n` spare slots must hold valid mbufs now owned by the burst.
    #[inline]
    pub(crate) unsafe fn commit(&mut self, n: usize) {
        debug_assert!(self.len + n <= MAX_BURST);
        self.len += n;
    }

    /// Forgets the first `n` mbufs (their ownership went elsewhere, e.g. to
    /// a PMD) and moves the rest to the front.
    #[inline]
    pub(crate) fn consume_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.bufs.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// The iterator of [`Burst::drain`].
pub struct Drain<'a> {
    burst: &'a mut Burst,
    next: usize,
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;

    #[inline]
    fn next(&mut self) -> Option<Mbuf> {
        if self.next >= self.burst.len {
            return None;
        }
        let p = self.burst.bufs[self.next];
        self.next += 1;
        // SAFETY: slots next.. < len hold owned mbufs; each is yielded once
        // and Drop below only frees the ones not yielded.
        Some(Mbuf(unsafe { NonNull::new_unchecked(p) }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.burst.len - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Drain<'_> {}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        let (from, to) = (self.next, self.burst.len);
        if to > from {
            // SAFETY: bufs[from..to] are owned mbufs never yielded; freed once.
            unsafe {
                sys::rte_pktmbuf_free_bulk(self.burst.bufs[from..].as_mut_ptr(), (to - from) as u32)
            };
        }
        self.burst.len = 0;
    }
}

impl Drop for Burst {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Frees raw mbufs in one call (`rte_pktmbuf_free_bulk`).
///
/// # Safety
/// Every pointer must be a valid mbuf owned by the caller, and none may be
/// used afterwards.
pub unsafe fn free_bulk(mbufs: &mut [*mut sys::rte_mbuf]) {
    for chunk in mbufs.chunks_mut(u32::MAX as usize) {
        // SAFETY: guaranteed by the caller; each chunk length fits a u32.
        unsafe { sys::rte_pktmbuf_free_bulk(chunk.as_mut_ptr(), chunk.len() as u32) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbuf_is_pointer_sized_so_bursts_cast_to_slices() {
        assert_eq!(
            std::mem::size_of::<Mbuf>(),
            std::mem::size_of::<*mut sys::rte_mbuf>()
        );
        assert_eq!(
            std::mem::align_of::<Mbuf>(),
            std::mem::align_of::<*mut sys::rte_mbuf>()
        );
        assert_eq!(
            std::mem::size_of::<Option<Mbuf>>(),
            std::mem::size_of::<*mut sys::rte_mbuf>()
        );
    }

    #[test]
    fn empty_burst_operations_need_no_dpdk() {
        let mut b = Burst::new();
        assert!(b.is_empty() && !b.is_full());
        assert_eq!(b.spare(), MAX_BURST);
        assert!(b.pop().is_none());
        assert!(b.swap_remove(0).is_none());
        b.retain(|_| true);
        b.clear();
        let mut other = Burst::default();
        assert_eq!(b.move_into(&mut other), 0);
        assert!(b.as_slice().is_empty());
    }
}
