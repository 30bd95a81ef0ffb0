//! Poptrie: a compressed multibit trie searched with population counts.
//!
//! After Asai & Ohara, "Poptrie: A Compressed Trie with Population Count for Fast
//! and Scalable Software IP Routing Table Lookup" (SIGCOMM 2015), with the
//! direct-pointing array replaced by cache-line *roots* that hold their leaves:
//!
//! - 6-bit strides. A node is two 64-bit bitmaps and two bases: bit `v` of
//!   `vector` says slot `v` is an internal child; the children of a node are stored
//!   contiguously from `base1`, so child `v` is `nodes[base1 + popcnt(vector & mask(v)) - 1]`.
//!   Leaf slots are run-length compressed: bit `v` of `leafvec` marks a leaf slot whose
//!   answer differs from the previous leaf slot's (child slots are transparent), so the
//!   answer of leaf slot `v` is leaf `base0 + popcnt(leafvec & mask(v)) - 1`.
//! - `2^s` roots ([`Root`]), one per value of the top `s` bits of the key, found
//!   without a load (the paper's direct-pointing array costs one more dependent
//!   access). A root is a node that also holds its leaves when they fit in its
//!   64-byte line: the answer with the most runs (the *background*: the gaps
//!   between the prefixes of the region, no match or a covering prefix) once, with
//!   a bitmap of its slots, and up to 13 (`u16` values) or 6 (`u32`) other runs.
//!   A lookup that ends at its root, the common case for a full IPv4 table with
//!   `s = 18` (a /24 is one slot), is one memory access, like DIR-24-8's, in
//!   16 MiB instead of 32-64 MiB. Roots with more runs keep them outside like nodes.
//!
//! Keys are `u64` aligned to the most significant bit (an IPv4 address is shifted left
//! by 32, an IPv6 lookup uses the top 64 bits), so extracting the slot at bit offset
//! `o` is `(key << o) >> 58` and bits past the key's end read as zero.
//!
//! The trie is built from the *answer function* of the prefix set rather than from
//! the prefixes themselves: a sorted list of boundaries `(start, answer id)` over a
//! 128-bit position space (keys occupy its top bits). A slot becomes a leaf exactly
//! when the answer is constant over it, so siblings with the same answer never create
//! nodes. A leaf is the caller's value `V` itself plus a 2-bit [`Tag`] saying
//! whether the value is an answer, "no match", or "look further" (IPv6 windows);
//! a lookup ends with the leaf and no further indirection, and `V = u32` costs 4
//! bytes a leaf instead of `Option<u32>`'s 8. A node whose first external leaf
//! equals the last one stored before it shares that leaf.
//!
//! [`Poptrie::lookup_bulk`] is a software pipeline with the root prefetched a
//! fixed distance ahead (DPDK's bulk lookups work the same way), so the cache and
//! TLB misses of many keys overlap. bench/LPM.md has the measurements behind every
//! choice here.

use prefetch::{prefetch_read, prefetch_read_slice};
use std::fmt;

/// Flag bit of a state: the low 31 bits index the leaves, not `nodes`.
const LEAF: u32 = 1 << 31;

/// Keys looked up per pipeline run of [`Poptrie::lookup_bulk`] (the size of its
/// state arrays; a receive burst).
pub(crate) const GROUP: usize = 64;

/// How many keys ahead [`Poptrie::lookup_bulk`] prefetches root nodes (measured,
/// bench/LPM.md).
const ROOT_AHEAD: usize = 24;

/// What a leaf's value means (2 bits per leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    /// No prefix matches; the stored value is a filler.
    NoMatch = 0,
    /// The stored value is the answer.
    Value = 1,
    /// The answer depends on key bits below the trie (IPv6 windows); the stored
    /// value is a filler.
    Further = 2,
}

impl Tag {
    #[inline(always)]
    fn from_bits(b: u64) -> Tag {
        match b {
            1 => Tag::Value,
            2 => Tag::Further,
            _ => Tag::NoMatch,
        }
    }
}

/// One internal node: 24 bytes. Both halves are arrays indexed by "is slot `v` a
/// child" (0 = leaf side, 1 = child side), so a step loads the applicable bitmap and
/// base by index instead of choosing with a branch (see [`Poptrie::step`]).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Node {
    /// `[LEAFVEC]`: bit `v` set: slot `v` is a leaf whose answer starts a new run.
    /// `[VECTOR]`: bit `v` set: slot `v` is an internal child.
    bits: [u64; 2],
    /// `[LEAFVEC]`: `LEAF |` index of this node's first leaf.
    /// `[VECTOR]`: index of this node's first child in `nodes`.
    base: [u32; 2],
}

const LEAFVEC: usize = 0;
const VECTOR: usize = 1;

impl Node {
    /// A node from its leaf-run bitmap and first leaf, and its child bitmap and
    /// first child.
    fn new(leafvec: u64, first_leaf: u32, vector: u64, first_child: u32) -> Node {
        let mut node = Node::default();
        node.bits[LEAFVEC] = leafvec;
        node.base[LEAFVEC] = LEAF | first_leaf;
        node.bits[VECTOR] = vector;
        node.base[VECTOR] = first_child;
        node
    }
}

/// Leaves a root holds inline when values take at most 2 bytes (a 64-byte root):
/// the background and 13 other runs.
pub(crate) const INLINE_NARROW: usize = 14;
/// Leaves a root holds inline for wider values (`u32`: a 64-byte root): the
/// background and 6 other runs.
pub(crate) const INLINE_WIDE: usize = 7;

/// A root node: the bitmaps and bases of a [`Node`], and, when the root has at most
/// `N` leaf runs, the leaves themselves. For `V = u16` with `N = 16` and `V = u32`
/// with `N = 8` a root is exactly one 64-byte cache line, so a lookup that ends at
/// its root (a /24 or shorter prefix, or no match) costs one memory access, like
/// DIR-24-8's tbl24 but in 16 MiB instead of 32-64 MiB.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Root<V, const N: usize> {
    /// `[VECTOR]`: child slots, as in [`Node`]. `[LEAFVEC]`: with inline leaves, the
    /// starts of the runs of answers other than the background (background and
    /// child slots are transparent); with external leaves, all leaf-run starts as
    /// in a [`Node`].
    bits: [u64; 2],
    /// With inline leaves: the slots answered by the background, `inline[0]`.
    bgvec: u64,
    /// `[VECTOR]`: the first child in `nodes`. `[LEAFVEC]`: 0 when the leaves are
    /// inline, else `LEAF |` the first of them in the external leaf arrays.
    base: [u32; 2],
    /// Tag of inline leaf `r`: bits `2r..2r + 2`.
    tags: u32,
    /// `[0]` the background answer, `[r]` the `r`-th other run's.
    inline: [V; N],
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

/// A built poptrie whose leaves are `V` values with a [`Tag`].
#[derive(Clone)]
pub(crate) struct Poptrie<V, const N: usize> {
    /// Number of key bits that select a root node.
    direct_bits: u32,
    /// `2^direct_bits` roots, one per value of the key's top bits.
    roots: Box<[Root<V, N>]>,
    /// The internal nodes below the roots.
    nodes: Box<[Node]>,
    /// Leaf values; never empty.
    values: Box<[V]>,
    /// Leaf `i`'s tag is bits `2 * (i % 32)..` of `tags[i / 32]`.
    tags: Box<[u64]>,
}

impl<V, const N: usize> fmt::Debug for Poptrie<V, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poptrie")
            .field("direct_bits", &self.direct_bits)
            .field("nodes", &self.nodes.len())
            .field("external_leaves", &self.values.len())
            .finish()
    }
}

/// Build-time callbacks: the leaf of an id, and the id of an unresolvable slot.
pub(crate) struct Answers<'f, V> {
    /// The leaf stored for answer id `id`.
    pub leaf: &'f mut dyn FnMut(u32) -> (V, Tag),
    /// Called for slots of the last level (which ends at or past the key's last bit)
    /// whose answer is not constant, with the slot's first position; returns the id
    /// to store there. Never called when every boundary is aligned to the key width.
    pub fallback: &'f mut dyn FnMut(u128) -> u32,
}

struct Builder<'r, 'f, V> {
    ranges: Ranges<'r>,
    key_bits: u32,
    nodes: Vec<Node>,
    values: Vec<V>,
    tags: Vec<u64>,
    /// The id of the last leaf stored.
    last_id: Option<u32>,
    answers: Answers<'f, V>,
}

impl<V: Copy> Builder<'_, '_, V> {
    /// The index of a leaf answering `id`: the last leaf stored when it has the
    /// same id (consecutive nodes and roots share it), else a new one.
    fn leaf(&mut self, id: u32) -> u32 {
        let n = self.values.len();
        if self.last_id == Some(id) {
            return index_u32(n - 1);
        }
        let (value, tag) = (self.answers.leaf)(id);
        if n % 32 == 0 {
            self.tags.push(0);
        }
        self.tags[n / 32] |= (tag as u64) << (2 * (n % 32));
        self.values.push(value);
        self.last_id = Some(id);
        index_u32(n)
    }

    /// The slots of the region starting at `lo` whose first `o` bits are fixed:
    /// (leaf-run bitmap, answer id of each run, child bitmap, children's regions).
    /// `cursor` is the run containing `lo`.
    fn scan(&mut self, lo: u128, o: u32, cursor: usize) -> Slots {
        let child_shift = 128 - (o + 6);
        let slot_size = 1u128 << child_shift;
        // Children are possible while key bits remain below this level; past the end
        // of the key, a slot without a constant answer is resolved by the fallback.
        let last_level = o + 6 >= self.key_bits;
        let mut slots = Slots {
            leafvec: 0,
            ids: [0; 64],
            n_ids: 0,
            vector: 0,
            children: [(0, 0); 64],
            n_children: 0,
        };
        let mut prev_id: Option<u32> = None;
        let mut c = cursor;
        for v in 0..64u32 {
            let slo = lo + (u128::from(v) << child_shift);
            self.ranges.seek(&mut c, slo);
            let id = if self.ranges.constant(c, slo + (slot_size - 1)) {
                self.ranges.ids[c]
            } else if !last_level {
                slots.vector |= 1 << v;
                slots.children[slots.n_children] = (slo, c);
                slots.n_children += 1;
                continue;
            } else {
                (self.answers.fallback)(slo)
            };
            if prev_id != Some(id) {
                slots.leafvec |= 1 << v;
                slots.ids[slots.n_ids] = id;
                slots.n_ids += 1;
                prev_id = Some(id);
            }
        }
        slots
    }

    /// Stores the runs' leaves externally: `LEAF |` the first one's index. Only the
    /// first can be shared with the last leaf stored before; they stay contiguous.
    fn external(&mut self, ids: &[u32]) -> u32 {
        let mut first = None;
        for &id in ids {
            let leaf = self.leaf(id);
            first.get_or_insert(leaf);
        }
        LEAF | first.unwrap_or(0)
    }

    /// Allocates the children of `slots` in `nodes` and fills them; returns the
    /// first one's index.
    fn children(&mut self, slots: &Slots, o: u32) -> u32 {
        let base1 = self.nodes.len();
        self.nodes.resize(base1 + slots.n_children, Node::default());
        for (k, &(slo, c)) in slots.children[..slots.n_children].iter().enumerate() {
            self.fill(base1 + k, slo, o + 6, c);
        }
        index_u32(base1)
    }

    /// Fills `nodes[idx]` for the region starting at `lo` whose first `o` bits are
    /// fixed, which is known not to have a constant answer. `cursor` is the run
    /// containing `lo`.
    fn fill(&mut self, idx: usize, lo: u128, o: u32, cursor: usize) {
        let slots = self.scan(lo, o, cursor);
        let leaves = self.external(&slots.ids[..slots.n_ids]);
        let first_child = self.children(&slots, o);
        self.nodes[idx] = Node::new(slots.leafvec, leaves & !LEAF, slots.vector, first_child);
    }

    /// The root for the region starting at `lo` (the first `o` bits fixed).
    fn root<const N: usize>(&mut self, lo: u128, o: u32, cursor: usize, filler: V) -> Root<V, N> {
        let region_end = lo + ((1u128 << (128 - o)) - 1);
        let slots = if self.ranges.constant(cursor, region_end) {
            // One run over the whole region: slot 0 starts it.
            let mut ids = [0; 64];
            ids[0] = self.ranges.ids[cursor];
            Slots {
                leafvec: 1,
                ids,
                n_ids: 1,
                vector: 0,
                children: [(0, 0); 64],
                n_children: 0,
            }
        } else {
            self.scan(lo, o, cursor)
        };
        let mut root = Root {
            bits: [0; 2],
            bgvec: 0,
            base: [0; 2],
            tags: 0,
            inline: [filler; N],
        };
        root.bits[VECTOR] = slots.vector;
        let ids = &slots.ids[..slots.n_ids];
        // The slot-by-slot answer ids (`None` for child slots).
        let mut slot_ids = [None; 64];
        let mut run = 0;
        for (v, slot) in slot_ids.iter_mut().enumerate() {
            if slots.vector >> v & 1 != 0 {
                continue;
            }
            if slots.leafvec >> v & 1 != 0 {
                run += 1;
            }
            *slot = Some(ids[run - 1]);
        }
        // The background: the id with the most runs (the gaps between the prefixes
        // of a region are usually one "no match" or covering answer).
        // (A root whose slots are all children has no leaves: id 0 stands in.)
        let mut bg = ids.first().copied().unwrap_or(0);
        let mut best = 0;
        for &id in ids {
            let count = ids.iter().filter(|&&i| i == id).count();
            if count > best {
                (bg, best) = (id, count);
            }
        }
        // Runs of the other ids, background and child slots transparent.
        let mut bgvec = 0u64;
        let mut leafvec = 0u64;
        let mut others = [0u32; 64];
        let mut n_others = 0;
        let mut prev = None;
        for (v, slot) in slot_ids.iter().enumerate() {
            match *slot {
                Some(id) if id == bg => bgvec |= 1 << v,
                Some(id) if prev != Some(id) => {
                    leafvec |= 1 << v;
                    others[n_others] = id;
                    n_others += 1;
                    prev = Some(id);
                }
                _ => {}
            }
        }
        if n_others < N {
            // inline[0] is the background, inline[r] the r-th other run.
            for (r, &id) in std::iter::once(&bg).chain(&others[..n_others]).enumerate() {
                let (value, tag) = (self.answers.leaf)(id);
                root.inline[r] = value;
                root.tags |= (tag as u32) << (2 * r);
            }
            root.bits[LEAFVEC] = leafvec;
            root.bgvec = bgvec;
        } else {
            root.bits[LEAFVEC] = slots.leafvec;
            root.base[LEAFVEC] = self.external(ids);
        }
        root.base[VECTOR] = self.children(&slots, o);
        root
    }
}

/// What [`Builder::scan`] finds in a node's 64 slots.
struct Slots {
    leafvec: u64,
    ids: [u32; 64],
    n_ids: usize,
    vector: u64,
    children: [(u128, usize); 64],
    n_children: usize,
}

/// Node and leaf indices are below 2^31; exceeding that would take tens of GiB.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .filter(|&i| i < LEAF)
        .expect("poptrie index exceeds 2^31 (table far beyond any supported size)")
}

impl<V: Copy, const N: usize> Poptrie<V, N> {
    /// Builds the trie over `key_bits` (32 or 64) significant bits, with `2^direct_bits`
    /// root nodes. `ranges` must start at position 0 and be strictly increasing.
    pub(crate) fn build(
        ranges: Ranges<'_>,
        direct_bits: u32,
        key_bits: u32,
        answers: Answers<'_, V>,
    ) -> Self {
        assert!((1..=24).contains(&direct_bits) && direct_bits < key_bits && key_bits <= 64);
        assert!((1..=16).contains(&N), "a root holds 1 to 16 leaves inline");
        assert!(ranges.starts.first() == Some(&0) && ranges.starts.len() == ranges.ids.len());
        let region_shift = 128 - direct_bits;
        let roots = 1usize << direct_bits;
        let mut b = Builder {
            ranges,
            key_bits,
            nodes: Vec::new(),
            values: Vec::new(),
            tags: Vec::new(),
            last_id: None,
            answers,
        };
        // The value in unused inline slots: any leaf's will do.
        let filler = (b.answers.leaf)(b.ranges.ids[0]).0;
        let mut roots_v = Vec::with_capacity(roots);
        // Roots are read at random, one line per lookup: in 4 KiB pages nearly every
        // lookup of a large table also misses the TLB (bench/LPM.md).
        memhint::advise_huge_pages(&roots_v);
        let mut cursor = 0;
        for j in 0..roots {
            let lo = (j as u128) << region_shift;
            b.ranges.seek(&mut cursor, lo);
            roots_v.push(b.root(lo, direct_bits, cursor, filler));
        }
        Poptrie {
            direct_bits,
            roots: roots_v.into_boxed_slice(),
            nodes: b.nodes.into_boxed_slice(),
            values: b.values.into_boxed_slice(),
            tags: b.tags.into_boxed_slice(),
        }
    }

    /// One trie step of `key` at node `node_idx`, whose slots start at key bit `o`:
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

    /// The root of `key`.
    #[inline(always)]
    fn root(&self, key: u64) -> &Root<V, N> {
        &self.roots[(key >> (64 - self.direct_bits)) as usize]
    }

    /// The root step of `key`. `Ok(leaf)` when the root holds the answer inline;
    /// else `Err((state, is_node))`: a child node index, or `LEAF |` an external
    /// leaf. The value and tag are read with masks (in bounds whatever the root
    /// holds), not behind a branch, so they load from the root's line right away.
    #[inline(always)]
    fn root_step(&self, key: u64) -> Result<(V, Tag), (u32, bool)> {
        let r = self.root(key);
        let v = (key << self.direct_bits) >> 58;
        let side = ((r.bits[VECTOR] >> v) & 1) as usize;
        let rank = (r.bits[side] & upto(v)).count_ones();
        let next = r.base[side].wrapping_add(rank).wrapping_sub(1);
        let background = (r.bgvec >> v) & 1 != 0;
        let slot = if background {
            0
        } else {
            (rank as usize).min(N - 1)
        };
        let value = r.inline[slot];
        let tag = Tag::from_bits(u64::from(r.tags >> (2 * slot)) & 3);
        if side == LEAFVEC && r.base[LEAFVEC] == 0 {
            Ok((value, tag))
        } else {
            Err((next, side == VECTOR))
        }
    }

    /// The value and tag of the external leaf in state `s` (`LEAF | index`).
    #[inline(always)]
    fn leaf(&self, s: u32) -> (V, Tag) {
        let i = (s & !LEAF) as usize;
        let tag = (self.tags[i / 32] >> (2 * (i % 32))) & 3;
        (self.values[i], Tag::from_bits(tag))
    }

    /// The leaf for a key aligned to the most significant bit.
    #[inline]
    pub(crate) fn lookup(&self, key: u64) -> (V, Tag) {
        let (mut s, mut node) = match self.root_step(key) {
            Ok(leaf) => return leaf,
            Err(next) => next,
        };
        let mut o = self.direct_bits + 6;
        while node {
            (s, node) = self.step(s, key, o);
            o += 6;
        }
        self.leaf(s)
    }

    /// Prefetches the root of `key`: its first cache line and, when a root is
    /// larger (`V` wider than 2 bytes), its last one, where the later inline
    /// leaves are.
    #[inline(always)]
    fn prefetch_root(&self, key: u64) {
        let r = self.root(key);
        prefetch_read(r);
        if std::mem::size_of::<Root<V, N>>() > 64 {
            prefetch_read(&r.inline[N - 1]);
        }
    }

    /// Prefetches what state `s` reads next: node `s` when `node` is true, else its
    /// external leaf value. Both prefetches are issued (one of them of an entry 0)
    /// so there is no branch on the freshly computed state.
    #[inline(always)]
    fn prefetch_next(&self, s: u32, node: bool) {
        prefetch_read_slice(&self.nodes, if node { s } else { 0 } as usize);
        prefetch_read_slice(&self.values, if node { 0 } else { s & !LEAF } as usize);
    }

    /// Calls `emit(i, leaf for key(addrs[i]))` once for every `i` (not in order),
    /// [`GROUP`] keys at a time.
    ///
    /// A software pipeline in the manner of DPDK's bulk lookups: the root of key
    /// `j + ROOT_AHEAD` is prefetched while key `j` takes its root step. Most keys
    /// end there (the root holds their leaf inline); the others have their
    /// external leaf or child node prefetched and are finished after the pass,
    /// level by level. A rolling distance keeps a steady number of misses in
    /// flight; prefetching a whole group's roots at once measured 2x slower (the
    /// miss buffers fill and the prefetches stall).
    #[inline]
    pub(crate) fn lookup_bulk<A: Copy>(
        &self,
        addrs: &[A],
        key: impl Fn(A) -> u64,
        mut emit: impl FnMut(usize, V, Tag),
    ) {
        let mut keys = [0u64; GROUP];
        let mut state = [0u32; GROUP];
        let mut pending = [0u8; GROUP];
        let mut deep = [0u8; GROUP];
        for (c, chunk) in addrs.chunks(GROUP).enumerate() {
            let base = c * GROUP;
            let n = chunk.len();
            for (k, &a) in keys.iter_mut().zip(chunk) {
                *k = key(a);
            }
            let keys = &keys[..n];
            for &k in keys.iter().take(ROOT_AHEAD) {
                self.prefetch_root(k);
            }
            let (mut n_pending, mut n_deep) = (0, 0);
            for (j, &k) in keys.iter().enumerate() {
                if let Some(&ahead) = keys.get(j + ROOT_AHEAD) {
                    self.prefetch_root(ahead);
                }
                match self.root_step(k) {
                    Ok((v, t)) => emit(base + j, v, t),
                    Err((next, node)) => {
                        state[j] = next;
                        self.prefetch_next(next, node);
                        pending[n_pending] = j as u8;
                        n_pending += 1;
                        deep[n_deep] = j as u8;
                        n_deep += usize::from(node);
                    }
                }
            }
            // Below the roots (a /24 holding longer prefixes): level by level.
            let mut o = self.direct_bits + 6;
            while n_deep > 0 {
                let walking = n_deep;
                n_deep = 0;
                for j in 0..walking {
                    let i = usize::from(deep[j]);
                    let (next, node) = self.step(state[i], keys[i], o);
                    state[i] = next;
                    self.prefetch_next(next, node);
                    deep[n_deep] = i as u8;
                    n_deep += usize::from(node);
                }
                o += 6;
            }
            for &i in &pending[..n_pending] {
                let (v, t) = self.leaf(state[usize::from(i)]);
                emit(base + usize::from(i), v, t);
            }
        }
    }

    /// Heap and inline bytes of the structure.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.roots.len() * std::mem::size_of::<Root<V, N>>()
            + self.nodes.len() * std::mem::size_of::<Node>()
            + self.values.len() * std::mem::size_of::<V>()
            + self.tags.len() * std::mem::size_of::<u64>()
    }

    /// Internal nodes below the roots.
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Leaves stored outside the roots.
    #[cfg(test)]
    pub(crate) fn leaf_count(&self) -> usize {
        self.values.len()
    }
}

/// A poptrie whose roots are one cache line for the value type: 16 inline leaves for
/// values up to 2 bytes, 8 for wider ones.
#[derive(Debug, Clone)]
pub(crate) enum Trie<V> {
    Narrow(Poptrie<V, INLINE_NARROW>),
    Wide(Poptrie<V, INLINE_WIDE>),
}

macro_rules! each {
    ($self:expr, $t:ident => $e:expr) => {
        match $self {
            Trie::Narrow($t) => $e,
            Trie::Wide($t) => $e,
        }
    };
}

impl<V: Copy> Trie<V> {
    /// [`Poptrie::build`] with the inline leaf count that fits `V`.
    pub(crate) fn build(
        ranges: Ranges<'_>,
        direct_bits: u32,
        key_bits: u32,
        answers: Answers<'_, V>,
    ) -> Self {
        if std::mem::size_of::<V>() <= 2 {
            Trie::Narrow(Poptrie::build(ranges, direct_bits, key_bits, answers))
        } else {
            Trie::Wide(Poptrie::build(ranges, direct_bits, key_bits, answers))
        }
    }

    /// [`Poptrie::lookup`].
    #[inline]
    pub(crate) fn lookup(&self, key: u64) -> (V, Tag) {
        each!(self, t => t.lookup(key))
    }

    /// [`Poptrie::lookup_bulk`].
    #[inline]
    pub(crate) fn lookup_bulk<A: Copy>(
        &self,
        addrs: &[A],
        key: impl Fn(A) -> u64,
        emit: impl FnMut(usize, V, Tag),
    ) {
        each!(self, t => t.lookup_bulk(addrs, key, emit))
    }

    /// The number of key bits that select a root.
    pub(crate) fn direct_bits(&self) -> u32 {
        each!(self, t => t.direct_bits)
    }

    /// Heap bytes of the structure (not counting this value itself).
    pub(crate) fn heap_bytes(&self) -> usize {
        each!(self, t => t.memory_bytes() - std::mem::size_of_val(t))
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        each!(self, t => t.node_count())
    }

    #[cfg(test)]
    pub(crate) fn leaf_count(&self) -> usize {
        each!(self, t => t.leaf_count())
    }
}
