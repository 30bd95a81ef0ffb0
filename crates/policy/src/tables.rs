//! Compiled lookup tables: what the workers read.

use crate::model::{Action, Config, Mode, NamedPrefixes, Prefix, NEVER_BLOCKED_PORTS};
use crate::validate::MAX_ENTRIES;
use lpm::{Lpm4, Lpm6, LpmError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::IpAddr;

/// Index of a pool in [`Tables::pools`] (the order of `pools` in the config).
pub type PoolId = u16;

/// What the data path needs to know about a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolInfo {
    pub name: String,
    pub mode: Mode,
    /// Effective action: the pool's override, else `default_action`.
    pub action: Action,
}

/// A set of TCP ports as a 65536-bit bitmap: one load and one mask per test.
#[derive(Clone, PartialEq, Eq)]
pub struct PortSet {
    bits: Box<[u64; 1024]>,
}

impl PortSet {
    /// The empty set.
    pub fn new() -> PortSet {
        PortSet {
            bits: Box::new([0; 1024]),
        }
    }

    pub fn from_ports(ports: impl IntoIterator<Item = u16>) -> PortSet {
        let mut set = PortSet::new();
        for p in ports {
            set.insert(p);
        }
        set
    }

    pub fn insert(&mut self, port: u16) {
        self.bits[usize::from(port >> 6)] |= 1 << (port & 63);
    }

    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        self.bits[usize::from(port >> 6)] >> (port & 63) & 1 == 1
    }

    /// The ports in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..=u16::MAX).filter(|&p| self.contains(p))
    }

    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet::new()
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Destination prefixes with a name (a relay or scope entry), kept for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedSet {
    pub name: String,
    pub prefixes: Vec<Prefix>,
}

/// A destination set: longest-prefix match to the entry index.
#[derive(Debug, Clone, Default)]
pub(crate) struct DestSet {
    pub v4: Lpm4<u16>,
    pub v6: Lpm6<u16>,
    pub entries: Vec<NamedSet>,
}

impl DestSet {
    pub fn lookup(&self, addr: IpAddr) -> Option<u16> {
        match addr {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }

    /// The entry and the longest of its prefixes containing `addr`.
    pub fn matching(&self, addr: IpAddr) -> Option<(&NamedSet, Prefix)> {
        let entry = self.entries.get(usize::from(self.lookup(addr)?))?;
        Some((entry, longest_containing(&entry.prefixes, addr)?))
    }
}

pub(crate) fn longest_containing(prefixes: &[Prefix], addr: IpAddr) -> Option<Prefix> {
    prefixes
        .iter()
        .filter(|p| p.contains(addr))
        .max_by_key(|p| p.prefix_len())
        .copied()
}

/// The compiled policy. Immutable once built; `Send + Sync`, so the data plane can
/// publish it behind an atomic pointer and read it from every worker.
#[derive(Debug, Clone)]
pub struct Tables {
    pub(crate) src4: Lpm4<PoolId>,
    pub(crate) src6: Lpm6<PoolId>,
    pub(crate) pools: Vec<PoolInfo>,
    pub(crate) pool_prefixes: Vec<Vec<Prefix>>,
    pub(crate) relays: DestSet,
    pub(crate) scope: Option<DestSet>,
    pub(crate) blocked: PortSet,
    pub(crate) default_action: Action,
    pub(crate) inbound: bool,
    pub(crate) rate: u32,
    pub(crate) hash: String,
}

/// Why a [`Config`] could not be compiled (only possible for configs that did not go
/// through validation, e.g. built in code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Key path of the offending entry.
    pub path: String,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for CompileError {}

fn lpm_error(err: LpmError, origin: &[(usize, usize)], section: &str) -> CompileError {
    let at = |i: usize| origin.get(i).copied().unwrap_or((0, 0));
    let path = |i: usize| {
        let (e, p) = at(i);
        format!("{section}[{e}].prefixes[{p}]")
    };
    match err {
        LpmError::HostBits { index, addr, len } => CompileError {
            path: path(index),
            message: format!("host bits set in {addr}/{len}"),
        },
        LpmError::Duplicate {
            index,
            first_index,
            addr,
            len,
        } => CompileError {
            path: path(index),
            message: format!(
                "prefix {addr}/{len} is already in {}",
                path(first_index).replace(".prefixes", " at .prefixes")
            ),
        },
        LpmError::BadLength { index, len, max } => CompileError {
            path: path(index),
            message: format!("prefix length {len} is greater than {max}"),
        },
    }
}

type Entries4 = Vec<(u32, u8, u16)>;
type Entries6 = Vec<(u128, u8, u16)>;

/// LPM entries of numbered prefix lists by family; `o4[k]`/`o6[k]` is the
/// (list, position) entry k came from, for error paths.
#[derive(Default)]
struct Split {
    e4: Entries4,
    o4: Vec<(usize, usize)>,
    e6: Entries6,
    o6: Vec<(usize, usize)>,
}

fn split(lists: &[&[Prefix]]) -> Split {
    let mut s = Split::default();
    let Split { e4, o4, e6, o6 } = &mut s;
    for (id, list) in lists.iter().enumerate() {
        let value = u16::try_from(id).unwrap_or(u16::MAX);
        for (j, p) in list.iter().enumerate() {
            match p.addr() {
                IpAddr::V4(a) => {
                    e4.push((u32::from(a), p.prefix_len(), value));
                    o4.push((id, j));
                }
                IpAddr::V6(a) => {
                    e6.push((u128::from(a), p.prefix_len(), value));
                    o6.push((id, j));
                }
            }
        }
    }
    s
}

fn dest_set(list: &[NamedPrefixes], section: &str) -> Result<DestSet, CompileError> {
    if list.len() > MAX_ENTRIES {
        return Err(CompileError {
            path: format!("{section}[{MAX_ENTRIES}]"),
            message: format!("too many {section} entries: at most {MAX_ENTRIES}"),
        });
    }
    let lists: Vec<&[Prefix]> = list.iter().map(|e| e.prefixes.as_slice()).collect();
    let Split { e4, o4, e6, o6 } = split(&lists);
    Ok(DestSet {
        v4: Lpm4::build(&e4).map_err(|e| lpm_error(e, &o4, section))?,
        v6: Lpm6::build(&e6).map_err(|e| lpm_error(e, &o6, section))?,
        entries: list
            .iter()
            .map(|e| NamedSet {
                name: e.name.clone(),
                prefixes: e.prefixes.clone(),
            })
            .collect(),
    })
}

impl Tables {
    /// Compiles a configuration. [`load_str`](crate::load_str) and
    /// [`load_file`](crate::load_file) validate first and report positions; this entry
    /// point is for configs built in code and re-checks what lookups rely on (host
    /// bits, duplicate prefixes, id ranges, never-blocked ports).
    pub fn compile(config: &Config) -> Result<Tables, CompileError> {
        if config.pools.len() > MAX_ENTRIES {
            return Err(CompileError {
                path: format!("pools[{MAX_ENTRIES}]"),
                message: format!("too many pools: at most {MAX_ENTRIES}"),
            });
        }
        for (i, &port) in config.blocked_ports.iter().enumerate() {
            if port == 0 || NEVER_BLOCKED_PORTS.contains(&port) {
                return Err(CompileError {
                    path: format!("blocked_ports[{i}]"),
                    message: format!("port {port} cannot be blocked"),
                });
            }
        }
        let lists: Vec<&[Prefix]> = config.pools.iter().map(|p| p.prefixes.as_slice()).collect();
        let Split { e4, o4, e6, o6 } = split(&lists);
        let src4 = Lpm4::build(&e4).map_err(|e| lpm_error(e, &o4, "pools"))?;
        let src6 = Lpm6::build(&e6).map_err(|e| lpm_error(e, &o6, "pools"))?;
        let relays = dest_set(&config.relays, "relays")?;
        let scope = match &config.scope {
            Some(list) => Some(dest_set(list, "scope")?),
            None => None,
        };
        let pools = config
            .pools
            .iter()
            .map(|p| PoolInfo {
                name: p.name.clone(),
                mode: p.mode,
                action: p.action.unwrap_or(config.default_action),
            })
            .collect();
        let mut tables = Tables {
            src4,
            src6,
            pools,
            pool_prefixes: config.pools.iter().map(|p| p.prefixes.clone()).collect(),
            relays,
            scope,
            blocked: PortSet::from_ports(config.blocked_ports.iter().copied()),
            default_action: config.default_action,
            inbound: config.inbound.enabled,
            rate: config.reply.rate_per_sec,
            hash: String::new(),
        };
        tables.hash = tables.content_hash();
        Ok(tables)
    }

    /// SHA-256 over a canonical text form of everything that affects verdicts and
    /// explanations: prefix order inside a list does not matter, pool order does (it
    /// defines the pool ids).
    fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        self.canonical_form(&mut |line: &str| {
            h.update(line.as_bytes());
            h.update(b"\n");
        });
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn canonical_form(&self, out: &mut dyn FnMut(&str)) {
        out("op25b-tables 1");
        let ports: Vec<String> = self.blocked.iter().map(|p| p.to_string()).collect();
        out(&format!("blocked_ports {}", ports.join(",")));
        out(&format!("default_action {}", self.default_action));
        out(&format!("inbound {}", self.inbound));
        out(&format!("reply_rate_per_sec {}", self.rate));
        let prefixes = |list: &[Prefix], out: &mut dyn FnMut(&str)| {
            let mut sorted = list.to_vec();
            sorted.sort();
            for p in sorted {
                out(&format!(" {p}"));
            }
        };
        for (info, list) in self.pools.iter().zip(&self.pool_prefixes) {
            out(&format!("pool {} {} {}", info.name, info.mode, info.action));
            prefixes(list, out);
        }
        for e in &self.relays.entries {
            out(&format!("relay {}", e.name));
            prefixes(&e.prefixes, out);
        }
        match &self.scope {
            None => out("scope none"),
            Some(scope) => {
                out("scope");
                for e in &scope.entries {
                    out(&format!("scope-entry {}", e.name));
                    prefixes(&e.prefixes, out);
                }
            }
        }
    }

    /// The pool of an IPv4 source (host order): longest prefix over all pools, exempt included.
    #[inline]
    pub fn lookup_src_v4(&self, addr: u32) -> Option<PoolId> {
        self.src4.lookup(addr)
    }

    /// The pool of an IPv6 source (host order).
    #[inline]
    pub fn lookup_src_v6(&self, addr: u128) -> Option<PoolId> {
        self.src6.lookup(addr)
    }

    /// [`Tables::lookup_src_v4`] for a burst of addresses at once (the LPM can
    /// overlap the memory accesses of independent lookups). Fills
    /// `out[..addrs.len().min(out.len())]`.
    #[inline]
    pub fn lookup_src_v4_bulk(&self, addrs: &[u32], out: &mut [Option<PoolId>]) {
        self.src4.lookup_bulk(addrs, out)
    }

    /// [`Tables::lookup_src_v6`] for a burst of addresses at once.
    #[inline]
    pub fn lookup_src_v6_bulk(&self, addrs: &[u128], out: &mut [Option<PoolId>]) {
        self.src6.lookup_bulk(addrs, out)
    }

    /// The pool of an address of either family.
    pub fn lookup_src(&self, addr: IpAddr) -> Option<PoolId> {
        match addr {
            IpAddr::V4(a) => self.lookup_src_v4(u32::from(a)),
            IpAddr::V6(a) => self.lookup_src_v6(u128::from(a)),
        }
    }

    /// Pool information.
    ///
    /// # Panics
    /// If `id` did not come from this table's lookups (ids index [`Tables::pools`]).
    #[inline]
    pub fn pool(&self, id: PoolId) -> &PoolInfo {
        &self.pools[usize::from(id)]
    }

    /// All pools, indexed by [`PoolId`].
    pub fn pools(&self) -> &[PoolInfo] {
        &self.pools
    }

    /// The prefixes configured for a pool (as written, in config order).
    pub fn pool_prefixes(&self, id: PoolId) -> &[Prefix] {
        self.pool_prefixes
            .get(usize::from(id))
            .map_or(&[], Vec::as_slice)
    }

    #[inline]
    pub fn is_relay_v4(&self, addr: u32) -> bool {
        self.relays.v4.lookup(addr).is_some()
    }

    #[inline]
    pub fn is_relay_v6(&self, addr: u128) -> bool {
        self.relays.v6.lookup(addr).is_some()
    }

    pub fn is_relay(&self, addr: IpAddr) -> bool {
        self.relays.lookup(addr).is_some()
    }

    /// True when `scope` is absent (blocking applies everywhere) or contains `addr`.
    #[inline]
    pub fn in_scope_v4(&self, addr: u32) -> bool {
        self.scope
            .as_ref()
            .map_or(true, |s| s.v4.lookup(addr).is_some())
    }

    #[inline]
    pub fn in_scope_v6(&self, addr: u128) -> bool {
        self.scope
            .as_ref()
            .map_or(true, |s| s.v6.lookup(addr).is_some())
    }

    pub fn in_scope(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.in_scope_v4(u32::from(a)),
            IpAddr::V6(a) => self.in_scope_v6(u128::from(a)),
        }
    }

    /// True when the config has a `scope` section.
    pub fn has_scope(&self) -> bool {
        self.scope.is_some()
    }

    pub fn blocked_ports(&self) -> &PortSet {
        &self.blocked
    }

    pub fn default_action(&self) -> Action {
        self.default_action
    }

    pub fn inbound_enabled(&self) -> bool {
        self.inbound
    }

    /// Replies per second per worker; [`DEFAULT_REPLY_RATE_PER_SEC`](crate::DEFAULT_REPLY_RATE_PER_SEC)
    /// (20000) when the config does not say.
    pub fn reply_rate_per_sec(&self) -> u32 {
        self.rate
    }

    /// Lowercase hex SHA-256 identifying this policy generation.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Names and prefixes of the relay entries, in config order.
    pub fn relay_entries(&self) -> impl Iterator<Item = (&str, &[Prefix])> {
        self.relays
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.prefixes.as_slice()))
    }

    /// Names and prefixes of the scope entries (empty when there is no scope).
    pub fn scope_entries(&self) -> impl Iterator<Item = (&str, &[Prefix])> {
        self.scope
            .iter()
            .flat_map(|s| s.entries.iter())
            .map(|e| (e.name.as_str(), e.prefixes.as_slice()))
    }

    /// Approximate memory of the lookup structures, in bytes.
    pub fn lookup_memory_bytes(&self) -> usize {
        let dest = |d: &DestSet| d.v4.memory_bytes() + d.v6.memory_bytes();
        self.src4.memory_bytes()
            + self.src6.memory_bytes()
            + dest(&self.relays)
            + self.scope.as_ref().map_or(0, dest)
            + std::mem::size_of::<[u64; 1024]>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_set_is_a_bitmap_over_all_ports() {
        let s = PortSet::from_ports([25, 0, 65535, 2525]);
        assert!(s.contains(25) && s.contains(0) && s.contains(65535) && s.contains(2525));
        assert!(!s.contains(26) && !s.contains(587));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 25, 2525, 65535]);
        assert_eq!(s.len(), 4);
        assert!(PortSet::new().is_empty());
        assert_eq!(format!("{s:?}"), "{0, 25, 2525, 65535}");
    }

    #[test]
    fn tables_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Tables>();
    }
}
