//! Poptrie: a compressed multibit trie searched with population counts.
//!
//! After Asai & Ohara, "Poptrie: A Compressed Trie with Population Count for Fast
//! and Scalable Software IP Routing Table Lookup" (SIGCOMM 2015):
//!
//! - a *direct-pointing* array indexed by the top `s` bits of the key; each entry is
//!   either a leaf (the region has one answer) or the index of a root node;
//! - 6-bit strides below it. A node is two 64-bit bitmaps and two bases: bit `v` of
//!   `vector` says slot `v` is an internal child; the children of a node are stored
//!   contiguously from `base1`, so child `v` is `nodes[base1 + popcnt(vector & mask(v)) - 1]`.
//!   Leaf slots are run-length compressed: bit `v` of `leafvec` marks a leaf slot whose
//!   answer differs from the previous leaf slot's (child slots are transparent), so the
//!   answer of leaf slot `v` is `leaves[base0 + popcnt(leafvec & mask(v)) - 1]`.
//!
//! Keys are `u64` aligned to the most significant bit (an IPv4 address is shifted left
//! by 32, an IPv6 lookup uses the top 64 bits), so extracting the slot at bit offset
//! `o` is `(key << o) >> 58` and bits past the key's end read as zero.
//!
//! The trie is built from the *answer function* of the prefix set rather than from
//! the prefixes themselves: a sorted list of boundaries `(start, leaf id)` over a
//! 128-bit position space (keys occupy its top bits). A slot becomes a leaf exactly
//! when the answer is constant over it, so siblings with the same answer never create
//! nodes. Leaf ids are opaque `u32`s chosen by the caller (`0` = no match).
//!
//! Everything here is safe Rust; the hot loops rely on bounds checks that always
//! pass and on the out-of-order core overlapping the loads of a group of keys
//! (explicit prefetch intrinsics would need `unsafe`, which this crate does not use).

use std::fmt;

/// Flag bit of a direct-pointing entry: the low 31 bits are a leaf id, not a node.
const DIRECT_LEAF: u32 = 1 << 31;

/// Keys looked up together by [`Poptrie::lookup_bulk`], level by level.
pub(crate) const GROUP: usize = 16;

/// A leaf id as stored in the leaf array: `u16` keeps the array small when the
/// number of distinct answers allows it.
pub(crate) trait LeafId: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// The largest id this type can hold.
    const MAX: u32;
    /// Narrows an id known to be `<= MAX`.
    fn from_u32(id: u32) -> Self;
    fn get(self) -> u32;
}

impl LeafId for u16 {
    const MAX: u32 = u16::MAX as u32;
    #[inline]
    fn from_u32(id: u32) -> Self {
        debug_assert!(id <= <Self as LeafId>::MAX);
        id as u16
    }
    #[inline]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl LeafId for u32 {
    const MAX: u32 = DIRECT_LEAF - 1;
    #[inline]
    fn from_u32(id: u32) -> Self {
        id
    }
    #[inline]
    fn get(self) -> u32 {
        self
    }
}

/// One internal node: 24 bytes.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Node {
    /// Bit `v` set: slot `v` is an internal child.
    vector: u64,
    /// Bit `v` set: slot `v` is a leaf whose answer starts a new run.
    leafvec: u64,
    /// Index of this node's first leaf in `leaves`.
    base0: u32,
    /// Index of this node's first child in `nodes`.
    base1: u32,
}

/// The bits `0..=v` of a 64-bit bitmap.
#[inline(always)]
fn upto(v: u64) -> u64 {
    u64::MAX >> (63 - v)
}

/// The position-space boundaries a trie is built from: `starts[i]` begins a run of
/// positions answered by `ids[i]`, up to `starts[i + 1] - 1`. `starts[0] == 0`.
pub(crate) struct Ranges<'a> {
    pub starts: &'a [u128],
    pub ids: &'a [u32],
}

impl Ranges<'_> {
    /// Advances `cursor` to the run containing `pos` (positions only move forward).
    #[inline]
    fn seek(&self, cursor: &mut usize, pos: u128) {
        while *cursor + 1 < self.starts.len() && self.starts[*cursor + 1] <= pos {
            *cursor += 1;
        }
    }

    /// Whether the run at `cursor` (which contains `lo`) covers all of `lo..=hi`.
    #[inline]
    fn constant(&self, cursor: usize, hi: u128) -> bool {
        cursor + 1 == self.starts.len() || self.starts[cursor + 1] > hi
    }
}

/// A built poptrie; leaf ids of type `L`.
#[derive(Clone)]
pub(crate) struct Poptrie<L> {
    /// Number of key bits resolved by `direct`.
    direct_bits: u32,
    /// `2^direct_bits` entries: `DIRECT_LEAF | leaf id`, or a node index.
    direct: Box<[u32]>,
    nodes: Box<[Node]>,
    leaves: Box<[L]>,
}

impl<L: LeafId> fmt::Debug for Poptrie<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poptrie")
            .field("direct_bits", &self.direct_bits)
            .field("nodes", &self.nodes.len())
            .field("leaves", &self.leaves.len())
            .finish()
    }
}

struct Builder<'r, 'f, L> {
    ranges: Ranges<'r>,
    key_bits: u32,
    nodes: Vec<Node>,
    leaves: Vec<L>,
    fallback: &'f mut dyn FnMut(u128) -> u32,
}

impl<L: LeafId> Builder<'_, '_, L> {
    /// Fills `nodes[idx]` for the region starting at `lo` whose first `o` bits are
    /// fixed, which is known not to have a constant answer. `cursor` is the run
    /// containing `lo`.
    fn fill(&mut self, idx: usize, lo: u128, o: u32, cursor: usize) {
        let child_shift = 128 - (o + 6);
        let slot_size = 1u128 << child_shift;
        // Children are possible while key bits remain below this level; past the end
        // of the key, a slot without a constant answer is resolved by the fallback.
        let last_level = o + 6 >= self.key_bits;
        let mut vector = 0u64;
        let mut leafvec = 0u64;
        let mut children: [(u128, usize); 64] = [(0, 0); 64];
        let mut n_children = 0;
        let base0 = self.leaves.len();
        let mut prev_leaf: Option<u32> = None;
        let mut c = cursor;
        for v in 0..64u32 {
            let slo = lo + (u128::from(v) << child_shift);
            self.ranges.seek(&mut c, slo);
            let leaf = if self.ranges.constant(c, slo + (slot_size - 1)) {
                self.ranges.ids[c]
            } else if !last_level {
                vector |= 1 << v;
                children[n_children] = (slo, c);
                n_children += 1;
                continue;
            } else {
                (self.fallback)(slo)
            };
            if prev_leaf != Some(leaf) {
                leafvec |= 1 << v;
                self.leaves.push(L::from_u32(leaf));
                prev_leaf = Some(leaf);
            }
        }
        let base1 = self.nodes.len();
        self.nodes.resize(base1 + n_children, Node::default());
        self.nodes[idx] = Node {
            vector,
            leafvec,
            base0: index_u32(base0),
            base1: index_u32(base1),
        };
        for (k, &(slo, c)) in children[..n_children].iter().enumerate() {
            self.fill(base1 + k, slo, o + 6, c);
        }
    }
}

/// Node and leaf indices are `u32`; exceeding them would take tens of GiB of memory.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .filter(|&i| i < DIRECT_LEAF)
        .expect("poptrie index exceeds 2^31 (table far beyond any supported size)")
}

impl<L: LeafId> Poptrie<L> {
    /// Builds the trie over `key_bits` (32 or 64) significant bits, with the top
    /// `direct_bits` bits resolved by the direct-pointing array. `ranges` must start
    /// at position 0, be strictly increasing, and use leaf ids `<= L::MAX`.
    /// `fallback(lo)` is called for slots of the last level (which ends at or past
    /// the key's last bit) whose answer is not constant, with the slot's first
    /// position; it returns the leaf id to store there. For keys whose boundaries are
    /// all aligned to the key width it is never called.
    pub(crate) fn build(
        ranges: Ranges<'_>,
        direct_bits: u32,
        key_bits: u32,
        fallback: &mut dyn FnMut(u128) -> u32,
    ) -> Self {
        assert!((1..=24).contains(&direct_bits) && direct_bits < key_bits && key_bits <= 64);
        assert!(ranges.starts.first() == Some(&0) && ranges.starts.len() == ranges.ids.len());
        let region_shift = 128 - direct_bits;
        let region_size = 1u128 << region_shift;
        let mut b = Builder {
            ranges,
            key_bits,
            nodes: Vec::new(),
            leaves: Vec::new(),
            fallback,
        };
        let mut direct = Vec::with_capacity(1 << direct_bits);
        let mut cursor = 0;
        for j in 0..(1u128 << direct_bits) {
            let lo = j << region_shift;
            b.ranges.seek(&mut cursor, lo);
            if b.ranges.constant(cursor, lo + (region_size - 1)) {
                direct.push(DIRECT_LEAF | b.ranges.ids[cursor]);
            } else {
                let idx = b.nodes.len();
                b.nodes.push(Node::default());
                direct.push(index_u32(idx));
                b.fill(idx, lo, direct_bits, cursor);
            }
        }
        Poptrie {
            direct_bits,
            direct: direct.into_boxed_slice(),
            nodes: b.nodes.into_boxed_slice(),
            leaves: b.leaves.into_boxed_slice(),
        }
    }

    /// An empty trie answering `0` everywhere.
    pub(crate) fn empty() -> Self {
        Poptrie {
            direct_bits: 1,
            direct: vec![DIRECT_LEAF; 2].into_boxed_slice(),
            nodes: Box::new([]),
            leaves: Box::new([]),
        }
    }

    /// The leaf id for a key aligned to the most significant bit.
    #[inline]
    pub(crate) fn lookup(&self, key: u64) -> u32 {
        let d = self.direct[(key >> (64 - self.direct_bits)) as usize];
        if d & DIRECT_LEAF != 0 {
            return d & !DIRECT_LEAF;
        }
        let mut node = &self.nodes[d as usize];
        let mut o = self.direct_bits;
        loop {
            let v = (key << o) >> 58;
            let mask = upto(v);
            if (node.vector >> v) & 1 != 0 {
                let i = node.base1 + (node.vector & mask).count_ones() - 1;
                node = &self.nodes[i as usize];
                o += 6;
            } else {
                let i = node.base0 + (node.leafvec & mask).count_ones() - 1;
                return self.leaves[i as usize].get();
            }
        }
    }

    /// Leaf ids for `GROUP` keys at once. The keys advance one trie level per pass, so
    /// the loads of different keys are independent and overlap in the CPU.
    #[inline]
    pub(crate) fn lookup_group(&self, keys: &[u64; GROUP], out: &mut [u32; GROUP]) {
        let shift = 64 - self.direct_bits;
        let mut state = [0u32; GROUP];
        let mut pending = false;
        for (s, &k) in state.iter_mut().zip(keys) {
            *s = self.direct[(k >> shift) as usize];
            pending |= *s & DIRECT_LEAF == 0;
        }
        let mut o = self.direct_bits;
        while pending {
            pending = false;
            for (s, &k) in state.iter_mut().zip(keys) {
                if *s & DIRECT_LEAF == 0 {
                    let node = &self.nodes[*s as usize];
                    let v = (k << o) >> 58;
                    let mask = upto(v);
                    if (node.vector >> v) & 1 != 0 {
                        *s = node.base1 + (node.vector & mask).count_ones() - 1;
                        pending = true;
                    } else {
                        let i = node.base0 + (node.leafvec & mask).count_ones() - 1;
                        *s = DIRECT_LEAF | self.leaves[i as usize].get();
                    }
                }
            }
            o += 6;
        }
        for (o, s) in out.iter_mut().zip(state) {
            *o = s & !DIRECT_LEAF;
        }
    }

    /// Heap and inline bytes of the structure.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.direct.len() * std::mem::size_of::<u32>()
            + self.nodes.len() * std::mem::size_of::<Node>()
            + self.leaves.len() * std::mem::size_of::<L>()
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// A poptrie with the narrowest leaf type that holds every leaf id.
#[derive(Debug, Clone)]
pub(crate) enum AnyPoptrie {
    Narrow(Poptrie<u16>),
    Wide(Poptrie<u32>),
}

impl AnyPoptrie {
    /// [`Poptrie::build`] with `u16` leaves when `max_id` fits, else `u32`.
    pub(crate) fn build(
        ranges: Ranges<'_>,
        max_id: u32,
        direct_bits: u32,
        key_bits: u32,
        fallback: &mut dyn FnMut(u128) -> u32,
    ) -> Self {
        if max_id <= <u16 as LeafId>::MAX {
            AnyPoptrie::Narrow(Poptrie::build(ranges, direct_bits, key_bits, fallback))
        } else {
            assert!(max_id <= <u32 as LeafId>::MAX, "more than 2^31 leaf ids");
            AnyPoptrie::Wide(Poptrie::build(ranges, direct_bits, key_bits, fallback))
        }
    }

    pub(crate) fn empty() -> Self {
        AnyPoptrie::Narrow(Poptrie::empty())
    }

    #[inline]
    pub(crate) fn lookup(&self, key: u64) -> u32 {
        match self {
            AnyPoptrie::Narrow(t) => t.lookup(key),
            AnyPoptrie::Wide(t) => t.lookup(key),
        }
    }

    /// Calls `emit(i, leaf id of key(addrs[i]))` for every `i`, in order, looking the
    /// keys up [`GROUP`] at a time.
    #[inline]
    pub(crate) fn lookup_bulk<A: Copy>(
        &self,
        addrs: &[A],
        key: impl Fn(A) -> u64,
        emit: impl FnMut(usize, u32),
    ) {
        match self {
            AnyPoptrie::Narrow(t) => bulk(t, addrs, key, emit),
            AnyPoptrie::Wide(t) => bulk(t, addrs, key, emit),
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            AnyPoptrie::Narrow(t) => t.memory_bytes(),
            AnyPoptrie::Wide(t) => t.memory_bytes(),
        }
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        match self {
            AnyPoptrie::Narrow(t) => t.node_count(),
            AnyPoptrie::Wide(t) => t.node_count(),
        }
    }
}

#[inline(always)]
fn bulk<L: LeafId, A: Copy>(
    t: &Poptrie<L>,
    addrs: &[A],
    key: impl Fn(A) -> u64,
    mut emit: impl FnMut(usize, u32),
) {
    let mut chunks = addrs.chunks_exact(GROUP);
    let mut base = 0;
    let mut keys = [0u64; GROUP];
    let mut ids = [0u32; GROUP];
    for chunk in &mut chunks {
        for (k, &a) in keys.iter_mut().zip(chunk) {
            *k = key(a);
        }
        t.lookup_group(&keys, &mut ids);
        for (j, &id) in ids.iter().enumerate() {
            emit(base + j, id);
        }
        base += GROUP;
    }
    for (j, &a) in chunks.remainder().iter().enumerate() {
        emit(base + j, t.lookup(key(a)));
    }
}
