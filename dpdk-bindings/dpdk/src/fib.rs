//! DPDK's longest-prefix-match tables, wrapped thinly for benchmarks and
//! comparisons: `rte_fib` (IPv4, DIR-24-8), `rte_fib6` (IPv6, trie) and
//! `rte_lpm` (IPv4).
//!
//! All of them allocate from DPDK memory. Under `--no-huge` that is plain
//! anonymous memory, but the EAL must be given enough of it: a DIR-24-8 FIB
//! alone needs 2^24 x next-hop-size bytes (32 MiB with 2-byte next hops,
//! 64 MiB with 4-byte ones) plus 256 x size per tbl8 group, so start the EAL
//! with e.g. `-m 512` (and more for a million prefixes).
//!
//! IPv4 addresses are `u32` in host byte order (`u32::from(Ipv4Addr)`), IPv6
//! addresses 16 bytes in network order (`Ipv6Addr::octets`). Lookups take
//! `&self` and may run on several lcores at once; changes take `&mut self`.

use std::ptr::NonNull;

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{c_name, Error, Result};

/// Longest name accepted for a FIB/LPM (DPDK prefixes it for its memzones).
const NAME_MAX: usize = 28;

/// Size of a next hop stored in a DIR-24-8 FIB or a trie FIB6. The largest
/// storable value is `2^(8*size - 1) - 1` (one bit marks extended entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHopSize {
    /// 2 bytes: next hops below 2^15.
    Two,
    /// 4 bytes: next hops below 2^31.
    Four,
    /// 8 bytes: next hops below 2^63.
    Eight,
}

impl NextHopSize {
    /// Bytes per entry.
    pub fn bytes(self) -> usize {
        match self {
            NextHopSize::Two => 2,
            NextHopSize::Four => 4,
            NextHopSize::Eight => 8,
        }
    }

    /// Largest next hop value that fits.
    pub fn max_next_hop(self) -> u64 {
        (1u64 << (8 * self.bytes() - 1)) - 1
    }
}

/// Settings for [`Fib::new`] and [`Fib6::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FibConfig {
    /// Most routes (prefixes) the FIB holds.
    pub max_routes: u32,
    /// Number of tbl8 groups: one per /24 (IPv4) or per trie level block
    /// (IPv6) that holds longer prefixes.
    pub num_tbl8: u32,
    /// Next hop returned when no prefix matches.
    pub default_nh: u64,
    /// Next-hop storage size.
    pub nh_size: NextHopSize,
}

fn check_nh(op: &'static str, conf: &FibConfig) -> Result<()> {
    if conf.default_nh > conf.nh_size.max_next_hop() {
        return Err(Error::invalid(
            op,
            format!(
                "default next hop {} does not fit {:?}",
                conf.default_nh, conf.nh_size
            ),
        ));
    }
    if conf.max_routes == 0 || conf.max_routes > i32::MAX as u32 {
        return Err(Error::invalid(
            op,
            format!("max_routes {} is outside 1..=2^31-1", conf.max_routes),
        ));
    }
    Ok(())
}

fn check_len(op: &'static str, a: usize, b: usize) -> Result<i32> {
    if a != b {
        return Err(Error::invalid(
            op,
            format!("{a} addresses but room for {b} next hops"),
        ));
    }
    i32::try_from(a).map_err(|_| Error::invalid(op, "too many addresses in one call"))
}

/// An IPv4 `rte_fib` with the DIR-24-8 algorithm.
pub struct Fib {
    fib: NonNull<sys::rte_fib>,
    conf: FibConfig,
}

// SAFETY: the FIB is heap data owned by this value; lookups (&self) only read
// it, changes need &mut self, which is the discipline DPDK requires.
unsafe impl Send for Fib {}
// SAFETY: see Send.
unsafe impl Sync for Fib {}

impl Fib {
    /// Creates a FIB named `name` (unique in the process) on `socket`.
    pub fn new(name: &str, socket: i32, conf: &FibConfig) -> Result<Fib> {
        const OP: &str = "Fib::new";
        ensure_running(OP)?;
        let cname = c_name(OP, "FIB name", name, NAME_MAX + 1)?;
        check_nh(OP, conf)?;
        let mut c = sys::rte_fib_conf {
            type_: sys::RTE_FIB_DIR24_8,
            default_nh: conf.default_nh,
            max_routes: conf.max_routes as i32,
            ..Default::default()
        };
        // Writing a union field of plain integers is safe.
        c.__bindgen_anon_1.dir24_8.nh_sz = match conf.nh_size {
            NextHopSize::Two => sys::RTE_FIB_DIR24_8_2B,
            NextHopSize::Four => sys::RTE_FIB_DIR24_8_4B,
            NextHopSize::Eight => sys::RTE_FIB_DIR24_8_8B,
        };
        c.__bindgen_anon_1.dir24_8.num_tbl8 = conf.num_tbl8;
        // SAFETY: the EAL is running; name and conf are valid for the call.
        let p = unsafe { sys::rte_fib_create(cname.as_ptr(), socket, &mut c) };
        let fib = NonNull::new(p)
            .ok_or_else(|| Error::from_rte_errno(format!("rte_fib_create({name:?})")))?;
        Ok(Fib { fib, conf: *conf })
    }

    /// Adds (or replaces) `ip/depth -> next_hop`. Host bits of `ip` are ignored.
    pub fn add(&mut self, ip: u32, depth: u8, next_hop: u64) -> Result<()> {
        if depth > 32 {
            return Err(Error::invalid(
                "Fib::add",
                format!("prefix length {depth} > 32"),
            ));
        }
        if next_hop > self.conf.nh_size.max_next_hop() {
            return Err(Error::invalid(
                "Fib::add",
                format!("next hop {next_hop} does not fit {:?}", self.conf.nh_size),
            ));
        }
        // SAFETY: valid FIB, exclusive access.
        let ret = unsafe { sys::rte_fib_add(self.fib.as_ptr(), ip, depth, next_hop) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_fib_add({}/{depth})", std::net::Ipv4Addr::from(ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// Removes `ip/depth`.
    pub fn delete(&mut self, ip: u32, depth: u8) -> Result<()> {
        if depth > 32 {
            return Err(Error::invalid(
                "Fib::delete",
                format!("prefix length {depth} > 32"),
            ));
        }
        // SAFETY: valid FIB, exclusive access.
        let ret = unsafe { sys::rte_fib_delete(self.fib.as_ptr(), ip, depth) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_fib_delete({}/{depth})", std::net::Ipv4Addr::from(ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// Looks up every address of `ips` into `next_hops` (same length).
    #[inline]
    pub fn lookup_bulk(&self, ips: &[u32], next_hops: &mut [u64]) -> Result<()> {
        let n = check_len("Fib::lookup_bulk", ips.len(), next_hops.len())?;
        // SAFETY: valid FIB; n addresses and n result slots; DPDK only reads
        // `ips` despite the non-const prototype.
        let ret = unsafe {
            sys::rte_fib_lookup_bulk(
                self.fib.as_ptr(),
                ips.as_ptr().cast_mut(),
                next_hops.as_mut_ptr(),
                n,
            )
        };
        if ret != 0 {
            return Err(Error::from_ret("rte_fib_lookup_bulk", ret));
        }
        Ok(())
    }

    /// The configuration it was created with.
    pub fn config(&self) -> &FibConfig {
        &self.conf
    }

    /// Memory of the lookup tables: the 2^24-entry tbl24 plus every tbl8
    /// group (256 entries each), at the next-hop size. The RIB that backs
    /// updates comes on top (about 64 bytes per route).
    pub fn table_memory(&self) -> usize {
        let nh = self.conf.nh_size.bytes();
        (1usize << 24) * nh + self.conf.num_tbl8 as usize * 256 * nh
    }
}

impl Drop for Fib {
    fn drop(&mut self) {
        // SAFETY: created by rte_fib_create, freed once.
        unsafe { sys::rte_fib_free(self.fib.as_ptr()) }
    }
}

/// An IPv6 `rte_fib6` with the trie algorithm.
pub struct Fib6 {
    fib: NonNull<sys::rte_fib6>,
    conf: FibConfig,
}

// SAFETY: as for Fib.
unsafe impl Send for Fib6 {}
// SAFETY: as for Fib.
unsafe impl Sync for Fib6 {}

impl Fib6 {
    /// Creates a FIB6 named `name` (unique in the process) on `socket`.
    pub fn new(name: &str, socket: i32, conf: &FibConfig) -> Result<Fib6> {
        const OP: &str = "Fib6::new";
        ensure_running(OP)?;
        let cname = c_name(OP, "FIB6 name", name, NAME_MAX + 1)?;
        check_nh(OP, conf)?;
        let mut c = sys::rte_fib6_conf {
            type_: sys::RTE_FIB6_TRIE,
            default_nh: conf.default_nh,
            max_routes: conf.max_routes as i32,
            ..Default::default()
        };
        // Writing a union field of plain integers is safe.
        c.__bindgen_anon_1.trie.nh_sz = match conf.nh_size {
            NextHopSize::Two => sys::RTE_FIB6_TRIE_2B,
            NextHopSize::Four => sys::RTE_FIB6_TRIE_4B,
            NextHopSize::Eight => sys::RTE_FIB6_TRIE_8B,
        };
        c.__bindgen_anon_1.trie.num_tbl8 = conf.num_tbl8;
        // SAFETY: the EAL is running; name and conf are valid for the call.
        let p = unsafe { sys::rte_fib6_create(cname.as_ptr(), socket, &mut c) };
        let fib = NonNull::new(p)
            .ok_or_else(|| Error::from_rte_errno(format!("rte_fib6_create({name:?})")))?;
        Ok(Fib6 { fib, conf: *conf })
    }

    /// Adds (or replaces) `ip/depth -> next_hop`.
    pub fn add(&mut self, ip: &[u8; 16], depth: u8, next_hop: u64) -> Result<()> {
        if depth > 128 {
            return Err(Error::invalid(
                "Fib6::add",
                format!("prefix length {depth} > 128"),
            ));
        }
        if next_hop > self.conf.nh_size.max_next_hop() {
            return Err(Error::invalid(
                "Fib6::add",
                format!("next hop {next_hop} does not fit {:?}", self.conf.nh_size),
            ));
        }
        // SAFETY: valid FIB, exclusive access, 16-byte address.
        let ret = unsafe { sys::rte_fib6_add(self.fib.as_ptr(), ip.as_ptr(), depth, next_hop) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_fib6_add({}/{depth})", std::net::Ipv6Addr::from(*ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// Removes `ip/depth`.
    pub fn delete(&mut self, ip: &[u8; 16], depth: u8) -> Result<()> {
        if depth > 128 {
            return Err(Error::invalid(
                "Fib6::delete",
                format!("prefix length {depth} > 128"),
            ));
        }
        // SAFETY: valid FIB, exclusive access, 16-byte address.
        let ret = unsafe { sys::rte_fib6_delete(self.fib.as_ptr(), ip.as_ptr(), depth) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_fib6_delete({}/{depth})", std::net::Ipv6Addr::from(*ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// Looks up every address of `ips` into `next_hops` (same length).
    #[inline]
    pub fn lookup_bulk(&self, ips: &[[u8; 16]], next_hops: &mut [u64]) -> Result<()> {
        let n = check_len("Fib6::lookup_bulk", ips.len(), next_hops.len())?;
        // SAFETY: valid FIB; n addresses and n result slots; DPDK only reads `ips`.
        let ret = unsafe {
            sys::rte_fib6_lookup_bulk(
                self.fib.as_ptr(),
                ips.as_ptr().cast_mut(),
                next_hops.as_mut_ptr(),
                n,
            )
        };
        if ret != 0 {
            return Err(Error::from_ret("rte_fib6_lookup_bulk", ret));
        }
        Ok(())
    }

    /// The configuration it was created with.
    pub fn config(&self) -> &FibConfig {
        &self.conf
    }

    /// Memory of the lookup tables: the 2^24-entry first level plus every
    /// tbl8 group (256 entries), at the next-hop size; the RIB comes on top.
    pub fn table_memory(&self) -> usize {
        let nh = self.conf.nh_size.bytes();
        (1usize << 24) * nh + self.conf.num_tbl8 as usize * 256 * nh
    }
}

impl Drop for Fib6 {
    fn drop(&mut self) {
        // SAFETY: created by rte_fib6_create, freed once.
        unsafe { sys::rte_fib6_free(self.fib.as_ptr()) }
    }
}

/// An IPv4 `rte_lpm` (next hops are 24-bit).
pub struct Lpm {
    lpm: NonNull<sys::rte_lpm>,
}

// SAFETY: as for Fib.
unsafe impl Send for Lpm {}
// SAFETY: as for Fib.
unsafe impl Sync for Lpm {}

/// Largest next hop an [`Lpm`] stores.
pub const LPM_MAX_NEXT_HOP: u32 = (1 << 24) - 1;

impl Lpm {
    /// Creates an LPM named `name` (unique in the process) on `socket`.
    pub fn new(name: &str, socket: i32, max_rules: u32, number_tbl8s: u32) -> Result<Lpm> {
        const OP: &str = "Lpm::new";
        ensure_running(OP)?;
        let cname = c_name(OP, "LPM name", name, NAME_MAX + 1)?;
        if max_rules == 0 {
            return Err(Error::invalid(OP, "max_rules must be at least 1"));
        }
        let c = sys::rte_lpm_config {
            max_rules,
            number_tbl8s,
            flags: 0,
        };
        // SAFETY: the EAL is running; name and config valid for the call.
        let p = unsafe { sys::rte_lpm_create(cname.as_ptr(), socket, &c) };
        let lpm = NonNull::new(p)
            .ok_or_else(|| Error::from_rte_errno(format!("rte_lpm_create({name:?})")))?;
        Ok(Lpm { lpm })
    }

    /// Adds (or replaces) `ip/depth -> next_hop` (depth 1..=32).
    pub fn add(&mut self, ip: u32, depth: u8, next_hop: u32) -> Result<()> {
        if !(1..=32).contains(&depth) || next_hop > LPM_MAX_NEXT_HOP {
            return Err(Error::invalid(
                "Lpm::add",
                format!("depth {depth} must be 1..=32 and next hop {next_hop} below 2^24"),
            ));
        }
        // SAFETY: valid LPM, exclusive access.
        let ret = unsafe { sys::rte_lpm_add(self.lpm.as_ptr(), ip, depth, next_hop) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_lpm_add({}/{depth})", std::net::Ipv4Addr::from(ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// Removes `ip/depth`.
    pub fn delete(&mut self, ip: u32, depth: u8) -> Result<()> {
        if !(1..=32).contains(&depth) {
            return Err(Error::invalid(
                "Lpm::delete",
                format!("depth {depth} must be 1..=32"),
            ));
        }
        // SAFETY: valid LPM, exclusive access.
        let ret = unsafe { sys::rte_lpm_delete(self.lpm.as_ptr(), ip, depth) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_lpm_delete({}/{depth})", std::net::Ipv4Addr::from(ip)),
                ret,
            ));
        }
        Ok(())
    }

    /// The next hop of the longest prefix matching `ip`.
    #[inline]
    pub fn lookup(&self, ip: u32) -> Option<u32> {
        let mut nh = 0u32;
        // SAFETY: valid LPM; valid out pointer.
        (unsafe { sys::rte_lpm_lookup(self.lpm.as_ptr(), ip, &mut nh) } == 0).then_some(nh)
    }

    /// Looks up every address of `ips` into `out` in DPDK's raw table-entry
    /// format (no per-entry conversion): a match has [`LPM_LOOKUP_SUCCESS`]
    /// set and its next hop in `out[i] & LPM_NEXT_HOP_MASK`; the other upper
    /// bits are DPDK bookkeeping.
    #[inline]
    pub fn lookup_bulk(&self, ips: &[u32], out: &mut [u32]) -> Result<()> {
        let n = check_len("Lpm::lookup_bulk", ips.len(), out.len())?;
        // SAFETY: valid LPM; n addresses and n result slots.
        let ret = unsafe {
            sys::rte_lpm_lookup_bulk_func(
                self.lpm.as_ptr(),
                ips.as_ptr(),
                out.as_mut_ptr(),
                n as u32,
            )
        };
        if ret != 0 {
            return Err(Error::from_ret("rte_lpm_lookup_bulk", ret));
        }
        Ok(())
    }
}

/// Flag bit set in [`Lpm::lookup_bulk`] results that matched.
pub const LPM_LOOKUP_SUCCESS: u32 = sys::RTE_LPM_LOOKUP_SUCCESS;
/// Next-hop bits of an [`Lpm::lookup_bulk`] result.
pub const LPM_NEXT_HOP_MASK: u32 = LPM_MAX_NEXT_HOP;

impl Drop for Lpm {
    fn drop(&mut self) {
        // SAFETY: created by rte_lpm_create, freed once.
        unsafe { sys::rte_lpm_free(self.lpm.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hop_limits_follow_dpdk() {
        assert_eq!(NextHopSize::Two.max_next_hop(), (1 << 15) - 1);
        assert_eq!(NextHopSize::Four.max_next_hop(), (1 << 31) - 1);
        assert_eq!(NextHopSize::Eight.max_next_hop(), (1 << 63) - 1);
    }

    #[test]
    fn tables_need_a_running_eal() {
        let conf = FibConfig {
            max_routes: 16,
            num_tbl8: 16,
            default_nh: 0,
            nh_size: NextHopSize::Two,
        };
        assert!(matches!(
            Fib::new("unit", -1, &conf),
            Err(Error::EalNotRunning(_))
        ));
        assert!(matches!(
            Fib6::new("unit", -1, &conf),
            Err(Error::EalNotRunning(_))
        ));
        assert!(matches!(
            Lpm::new("unit", -1, 16, 16),
            Err(Error::EalNotRunning(_))
        ));
    }
}
