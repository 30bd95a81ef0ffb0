//! Ports over rings made in-process (`rte_eth_from_rings`, the ring PMD): two
//! ports that share a pair of rings are wired back to back, so a test can
//! inject frames into one port and read what the application sends out of it.

use std::ffi::CString;
use std::ptr::NonNull;

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{Error, Result};
use crate::PortId;

/// An `rte_ring` of mbuf pointers, single producer and single consumer, that
/// backs queues of ring ports. It lives until EAL cleanup (ports keep using it).
#[derive(Debug, Clone, Copy)]
pub struct MbufRing(NonNull<sys::rte_ring>);

// SAFETY: an rte_ring is shared memory built for one producer thread and one
// consumer thread at a time; the handle is a pointer to it.
unsafe impl Send for MbufRing {}
// SAFETY: see Send.
unsafe impl Sync for MbufRing {}

impl MbufRing {
    /// Creates a ring of `count` slots (a power of two) named `name`.
    pub fn new(name: &str, count: u32, socket: i32) -> Result<MbufRing> {
        const OP: &str = "MbufRing::new";
        ensure_running(OP)?;
        if !count.is_power_of_two() {
            return Err(Error::invalid(
                OP,
                format!("count {count} is not a power of two"),
            ));
        }
        let c = CString::new(name).map_err(|_| Error::invalid(OP, "name contains a NUL byte"))?;
        let flags = sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ;
        // SAFETY: EAL running, valid NUL-terminated name.
        let r = unsafe { sys::rte_ring_create(c.as_ptr(), count, socket, flags) };
        NonNull::new(r)
            .map(MbufRing)
            .ok_or_else(|| Error::from_rte_errno(format!("rte_ring_create({name:?})")))
    }
}

/// Creates an ethdev named `name` whose rx queue i reads `rx[i]` and whose tx
/// queue i writes `tx[i]` (`rte_eth_from_rings`).
pub fn port_from_rings(
    name: &str,
    rx: &[MbufRing],
    tx: &[MbufRing],
    socket: u32,
) -> Result<PortId> {
    const OP: &str = "port_from_rings";
    ensure_running(OP)?;
    if rx.is_empty() || tx.is_empty() {
        return Err(Error::invalid(
            OP,
            "a ring port needs at least one rx and one tx ring",
        ));
    }
    let c = CString::new(name).map_err(|_| Error::invalid(OP, "name contains a NUL byte"))?;
    let rxp: Vec<*mut sys::rte_ring> = rx.iter().map(|r| r.0.as_ptr()).collect();
    let txp: Vec<*mut sys::rte_ring> = tx.iter().map(|r| r.0.as_ptr()).collect();
    // SAFETY: EAL running; the arrays hold valid rings that live until EAL
    // cleanup (MbufRing is never freed), as the ring PMD requires.
    let id = unsafe {
        sys::rte_eth_from_rings(
            c.as_ptr(),
            rxp.as_ptr(),
            rxp.len() as u32,
            txp.as_ptr(),
            txp.len() as u32,
            socket,
        )
    };
    if id < 0 {
        return Err(Error::from_rte_errno(format!(
            "rte_eth_from_rings({name:?})"
        )));
    }
    Ok(PortId(id as u16))
}
