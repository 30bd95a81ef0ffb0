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
//! the prefixes themselves: a sorted list of boundaries `(start, answer id)` over a
//! 128-bit position space (keys occupy its top bits). A slot becomes a leaf exactly
//! when the answer is constant over it, so siblings with the same answer never create
//! nodes. Leaves store the caller's answer type `T` itself (e.g. `Option<V>`), so a
//! lookup ends with the leaf load and no further indirection. Direct-pointing entries
//! that are leaves point into the same leaf array.
//!
//! Everything here is safe Rust (explicit prefetch intrinsics would need `unsafe`,
//! which this crate does not use). [`Poptrie::lookup_group`] gets its memory-level
//! parallelism from the out-of-order core instead: it advances a group of keys one
//! level per pass with branch-free steps (selects, not jumps), so no mispredicted
//! branch waits on a cache miss and the loads of all the keys overlap.

use prefetch::prefetch_read_slice;
use std::fmt;

/// Flag bit of a state or direct-pointing entry: the low 31 bits index `leaves`,
/// not `nodes`.
const LEAF: u32 = 1 << 31;

/// Keys looked up together by [`Poptrie::lookup_group`], level by level. 64 measured
/// better than 16 (bench/LPM.md): more independent loads in flight.
pub(crate) const GROUP: usize = 64;

/// One internal node: 24 bytes. Both halves are arrays indexed by "is slot `v` a
/// child" (0 = leaf side, 1 = child side), so a step loads the applicable bitmap and
/// base by index instead of choosing with a branch (see [`Poptrie::lookup_group`]).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Node {
    /// `[LEAFVEC]`: bit `v` set: slot `v` is a leaf whose answer starts a new run.
    /// `[VECTOR]`: bit `v` set: slot `v` is an internal child.
    bits: [u64; 2],
    /// `[LEAFVEC]`: `LEAF |` index of this node's first leaf in `leaves`.
    /// `[VECTOR]`: index of this node's first child in `nodes`.
    base: [u32; 2],
}

const LEAFVEC: usize = 0;
const VECTOR: usize = 1;

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

/// A built poptrie answering `T`.
#[derive(Clone)]
pub(crate) struct Poptrie<T> {
    /// Number of key bits resolved by `direct`.
    direct_bits: u32,
    /// `2^direct_bits` entries: `LEAF | leaf index`, or a node index.
    direct: Box<[u32]>,
    /// Never empty (index 0 is a harmless target for finished keys in a group).
    nodes: Box<[Node]>,
    leaves: Box<[T]>,
}

impl<T> fmt::Debug for Poptrie<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poptrie")
            .field("direct_bits", &self.direct_bits)
            .field("nodes", &self.nodes.len())
            .field("leaves", &self.leaves.len())
            .finish()
    }
}

/// Build-time callbacks: the answer of an id, and the id of an unresolvable slot.
pub(crate) struct Answers<'f, T> {
    /// The leaf stored for answer id `id`.
    pub leaf: &'f mut dyn FnMut(u32) -> T,
    /// Called for slots of the last level (which ends at or past the key's last bit)
    /// whose answer is not constant, with the slot's first position; returns the id
    /// to store there. Never called when every boundary is aligned to the key width.
    pub fallback: &'f mut dyn FnMut(u128) -> u32,
}

struct Builder<'r, 'f, T> {
    ranges: Ranges<'r>,
    key_bits: u32,
    nodes: Vec<Node>,
    leaves: Vec<T>,
    answers: Answers<'f, T>,
}

impl<T: Copy> Builder<'_, '_, T> {
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
        let mut prev_id: Option<u32> = None;
        let mut c = cursor;
        for v in 0..64u32 {
            let slo = lo + (u128::from(v) << child_shift);
            self.ranges.seek(&mut c, slo);
            let id = if self.ranges.constant(c, slo + (slot_size - 1)) {
                self.ranges.ids[c]
            } else if !last_level {
                vector |= 1 << v;
                children[n_children] = (slo, c);
                n_children += 1;
                continue;
            } else {
                (self.answers.fallback)(slo)
            };
            if prev_id != Some(id) {
                leafvec |= 1 << v;
                self.leaves.push((self.answers.leaf)(id));
                prev_id = Some(id);
            }
        }
        let base1 = self.nodes.len();
        self.nodes.resize(base1 + n_children, Node::default());
        self.nodes[idx] = Node {
            bits: [leafvec, vector],
            base: [LEAF | index_u32(base0), index_u32(base1)],
        };
        for (k, &(slo, c)) in children[..n_children].iter().enumerate() {
            self.fill(base1 + k, slo, o + 6, c);
        }
    }
}

/// Node and leaf indices are below 2^31; exceeding that would take tens of GiB.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .filter(|&i| i < LEAF)
        .expect("poptrie index exceeds 2^31 (table far beyond any supported size)")
}

impl<T: Copy> Poptrie<T> {
    /// Builds the trie over `key_bits` (32 or 64) significant bits, with the top
    /// `direct_bits` bits resolved by the direct-pointing array. `ranges` must start
    /// at position 0 and be strictly increasing.
    pub(crate) fn build(
        ranges: Ranges<'_>,
        direct_bits: u32,
        key_bits: u32,
        answers: Answers<'_, T>,
    ) -> Self {
        assert!((1..=24).contains(&direct_bits) && direct_bits < key_bits && key_bits <= 64);
        assert!(ranges.starts.first() == Some(&0) && ranges.starts.len() == ranges.ids.len());
        let region_shift = 128 - direct_bits;
        let region_size = 1u128 << region_shift;
        let mut b = Builder {
            ranges,
            key_bits,
            // Node 0 is a placeholder that finished keys of a group may read.
            nodes: vec![Node::default()],
            leaves: Vec::new(),
            answers,
        };
        let mut direct = Vec::with_capacity(1 << direct_bits);
        let mut cursor = 0;
        // Consecutive direct leaves with the same answer share one leaf.
        let mut prev_leaf: Option<(u32, u32)> = None;
        for j in 0..(1u128 << direct_bits) {
            let lo = j << region_shift;
            b.ranges.seek(&mut cursor, lo);
            if b.ranges.constant(cursor, lo + (region_size - 1)) {
                let id = b.ranges.ids[cursor];
                let leaf = match prev_leaf {
                    Some((prev_id, leaf)) if prev_id == id => leaf,
                    _ => {
                        let leaf = index_u32(b.leaves.len());
                        b.leaves.push((b.answers.leaf)(id));
                        prev_leaf = Some((id, leaf));
                        leaf
                    }
                };
                direct.push(LEAF | leaf);
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

    /// A trie answering `none` everywhere.
    pub(crate) fn empty(none: T) -> Self {
        Poptrie {
            direct_bits: 1,
            direct: vec![LEAF; 2].into_boxed_slice(),
            nodes: vec![Node::default()].into_boxed_slice(),
            leaves: vec![none].into_boxed_slice(),
        }
    }

    /// The answer for a key aligned to the most significant bit.
    #[inline]
    pub(crate) fn lookup(&self, key: u64) -> T {
        let d = self.direct[(key >> (64 - self.direct_bits)) as usize];
        if d & LEAF != 0 {
            return self.leaves[(d & !LEAF) as usize];
        }
        let mut node = &self.nodes[d as usize];
        let mut o = self.direct_bits;
        loop {
            let v = (key << o) >> 58;
            let mask = upto(v);
            if (node.bits[VECTOR] >> v) & 1 != 0 {
                let i = node.base[VECTOR] + (node.bits[VECTOR] & mask).count_ones() - 1;
                node = &self.nodes[i as usize];
                o += 6;
            } else {
                let i = (node.base[LEAFVEC] & !LEAF) + (node.bits[LEAFVEC] & mask).count_ones() - 1;
                return self.leaves[i as usize];
            }
        }
    }

    /// Answers for `GROUP` keys at once. All keys advance one trie level per pass
    /// with branch-free steps, so the loads of different keys overlap; a finished
    /// key keeps its state (and reads the placeholder node 0, always in cache).
    /// Every pass prefetches what the next pass reads for each key (its direct
    /// entry, then its child node or its leaf), so the cache misses of the whole
    /// group are in flight together and a pass finds its data in L1.
    #[inline]
    pub(crate) fn lookup_group(&self, keys: &[u64; GROUP], out: &mut [T; GROUP]) {
        let shift = 64 - self.direct_bits;
        for &k in keys {
            prefetch_read_slice(&self.direct, (k >> shift) as usize);
        }
        let mut state = [0u32; GROUP];
        let mut pending = false;
        for (s, &k) in state.iter_mut().zip(keys) {
            *s = self.direct[(k >> shift) as usize];
            let active = *s & LEAF == 0;
            self.prefetch_next(*s, active);
            pending |= active;
        }
        if !pending {
            return self.finish(&state, out);
        }
        // The first node level: most keys of a group have a node here (a /24 under
        // its /18), so every key takes the branch-free step; the few that go deeper
        // are collected for the next levels.
        let mut deep = [0u8; GROUP];
        let mut n_deep = 0;
        let o = self.direct_bits;
        for (i, (s, &k)) in state.iter_mut().zip(keys).enumerate() {
            let active = *s & LEAF == 0;
            let (next, descend) = self.step(if active { *s } else { 0 }, k, o);
            let descend = active & descend;
            *s = if active { next } else { *s };
            self.prefetch_next(*s, descend);
            deep[n_deep] = i as u8;
            n_deep += usize::from(descend);
        }
        let mut o = o + 6;
        while n_deep > 0 {
            let n = n_deep;
            n_deep = 0;
            for j in 0..n {
                let i = usize::from(deep[j]);
                let (next, descend) = self.step(state[i], keys[i], o);
                state[i] = next;
                self.prefetch_next(next, descend);
                deep[n_deep] = i as u8;
                n_deep += usize::from(descend);
            }
            o += 6;
        }
        self.finish(&state, out)
    }

    /// One trie step of `key` at node `node_idx`, whose slot starts at key bit `o`:
    /// the next state (a node index, or `LEAF |` a leaf index) and whether it is a
    /// node. Branch-free: the bitmap and base that apply are loaded by index; a
    /// branch here would be mispredicted half the time and wait for the node's cache
    /// miss (and the compiler turns selects between the two back into such a branch).
    #[inline(always)]
    fn step(&self, node_idx: u32, key: u64, o: u32) -> (u32, bool) {
        let node = &self.nodes[node_idx as usize];
        let v = (key << o) >> 58;
        let side = ((node.bits[VECTOR] >> v) & 1) as usize;
        let next = node.base[side]
            .wrapping_add((node.bits[side] & upto(v)).count_ones())
            .wrapping_sub(1);
        (next, side == VECTOR)
    }

    /// Loads the leaves of finished states.
    #[inline(always)]
    fn finish(&self, state: &[u32; GROUP], out: &mut [T; GROUP]) {
        for (o, &s) in out.iter_mut().zip(state) {
            *o = self.leaves[(s & !LEAF) as usize];
        }
    }

    /// Prefetches what state `s` reads next: node `s` when `node` is true, else the
    /// leaf `s & !LEAF`. Both prefetches are issued (one of them of an always-cached
    /// entry 0) so there is no branch on the freshly loaded state.
    #[inline(always)]
    fn prefetch_next(&self, s: u32, node: bool) {
        prefetch_read_slice(&self.nodes, if node { s } else { 0 } as usize);
        prefetch_read_slice(&self.leaves, if node { 0 } else { s & !LEAF } as usize);
    }

    /// Calls `emit(i, answer for key(addrs[i]))` for every `i`, in order, looking the
    /// keys up [`GROUP`] at a time.
    #[inline]
    pub(crate) fn lookup_bulk<A: Copy>(
        &self,
        addrs: &[A],
        key: impl Fn(A) -> u64,
        mut emit: impl FnMut(usize, T),
    ) where
        T: Default,
    {
        let mut chunks = addrs.chunks_exact(GROUP);
        let mut base = 0;
        let mut keys = [0u64; GROUP];
        let mut answers = [T::default(); GROUP];
        for chunk in &mut chunks {
            for (k, &a) in keys.iter_mut().zip(chunk) {
                *k = key(a);
            }
            self.lookup_group(&keys, &mut answers);
            for (j, &t) in answers.iter().enumerate() {
                emit(base + j, t);
            }
            base += GROUP;
        }
        // A short tail (or a burst smaller than a group) still goes through the group
        // walk; the padding keys are 0 and their answers are dropped.
        let tail = chunks.remainder();
        if !tail.is_empty() {
            keys.fill(0);
            for (k, &a) in keys.iter_mut().zip(tail) {
                *k = key(a);
            }
            self.lookup_group(&keys, &mut answers);
            for (j, &t) in answers[..tail.len()].iter().enumerate() {
                emit(base + j, t);
            }
        }
    }

    /// Heap and inline bytes of the structure.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.direct.len() * std::mem::size_of::<u32>()
            + self.nodes.len() * std::mem::size_of::<Node>()
            + self.leaves.len() * std::mem::size_of::<T>()
    }

    /// Internal nodes, not counting the placeholder.
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len() - 1
    }
}
