//! Ethernet ports: configuration, queues, control, statistics, and the
//! receive/transmit fast path.
//!
//! Control operations (configure, queue setup, start, stop, close,
//! promiscuous mode) are serialised by one process-wide lock, because DPDK's
//! control path is not thread safe. The fast path goes through queue handles:
//! [`PortId::rx_queue`] / [`PortId::tx_queue`] hand out at most one
//! [`RxQueue`] / [`TxQueue`] per (port, queue), so two lcores can never poll
//! the same queue, and a port cannot be reconfigured, stopped or closed while
//! any of its queue handles exists (drop them, i.e. stop the workers, first).

use std::collections::HashSet;
use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::{Mutex, MutexGuard};

use dpdk_sys as sys;

use crate::eal::ensure_running;
use crate::error::{Error, Result};
use crate::mbuf::Burst;
use crate::mempool::Mempool;

/// `RTE_MAX_ETHPORTS`.
pub const MAX_PORTS: u16 = sys::RTE_MAX_ETHPORTS as u16;
/// `RTE_MAX_QUEUES_PER_PORT`.
pub const MAX_QUEUES_PER_PORT: u16 = sys::RTE_MAX_QUEUES_PER_PORT as u16;

#[derive(Default)]
struct Claims {
    rx: HashSet<(u16, u16)>,
    tx: HashSet<(u16, u16)>,
}

impl Claims {
    fn port_busy(&self, port: u16) -> Option<String> {
        let rx = self.rx.iter().filter(|(p, _)| *p == port).count();
        let tx = self.tx.iter().filter(|(p, _)| *p == port).count();
        (rx + tx > 0)
            .then(|| format!("{rx} rx and {tx} tx queue handle(s) of this port are still alive"))
    }
}

static CONTROL: Mutex<Option<Claims>> = Mutex::new(None);

fn control() -> MutexGuard<'static, Option<Claims>> {
    // A panic while holding the lock cannot leave Claims inconsistent (every
    // update is a single insert or remove), so a poisoned lock is still usable.
    CONTROL.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_claims<T>(f: impl FnOnce(&mut Claims) -> T) -> T {
    let mut g = control();
    f(g.get_or_insert_with(Claims::default))
}

/// All ports.
pub struct Port;

impl Port {
    /// Number of usable ports (`rte_eth_dev_count_avail`).
    pub fn count() -> u16 {
        if !crate::eal::is_running() {
            return 0;
        }
        // SAFETY: the EAL is running.
        unsafe { sys::rte_eth_dev_count_avail() }
    }

    /// The ids of all usable ports, in order.
    pub fn all() -> Vec<PortId> {
        (0..MAX_PORTS)
            .map(PortId)
            .filter(|p| p.is_valid())
            .collect()
    }
}

/// A DPDK port id. Every method validates the id first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u16);

impl std::fmt::Display for PortId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "port {}", self.0)
    }
}

/// Port settings for [`PortId::configure`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortConf {
    /// Receive queues.
    pub rx_queues: u16,
    /// Transmit queues.
    pub tx_queues: u16,
    /// Spread received packets over the rx queues by an IP/TCP/UDP hash (RSS),
    /// using whatever hash fields of those the device supports.
    pub rss: bool,
    /// MTU to set after configuring, if any.
    pub mtu: Option<u16>,
}

impl Default for PortConf {
    fn default() -> Self {
        PortConf {
            rx_queues: 1,
            tx_queues: 1,
            rss: false,
            mtu: None,
        }
    }
}

/// What a device reports about itself (subset of `rte_eth_dev_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevInfo {
    /// PMD name, e.g. `net_ring`.
    pub driver_name: String,
    /// Most receive queues.
    pub max_rx_queues: u16,
    /// Most transmit queues.
    pub max_tx_queues: u16,
    /// Receive queues currently configured.
    pub nb_rx_queues: u16,
    /// Transmit queues currently configured.
    pub nb_tx_queues: u16,
    /// RSS hash fields supported (`RTE_ETH_RSS_*` bits).
    pub flow_type_rss_offloads: u64,
    /// Most receive descriptors per queue.
    pub rx_desc_max: u16,
    /// Most transmit descriptors per queue.
    pub tx_desc_max: u16,
    /// Smallest / largest MTU.
    pub min_mtu: u16,
    /// Largest MTU.
    pub max_mtu: u16,
}

/// Link state (`rte_eth_link`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Speed in Mbit/s; `None` when unknown.
    pub speed_mbps: Option<u32>,
    /// Link up.
    pub up: bool,
    /// Full duplex.
    pub full_duplex: bool,
    /// Auto-negotiated.
    pub autoneg: bool,
}

/// Basic port counters (`rte_eth_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets received.
    pub ipackets: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Packets dropped by the hardware because the rx queues were full.
    pub imissed: u64,
    /// Erroneous received packets.
    pub ierrors: u64,
    /// Failed transmissions.
    pub oerrors: u64,
    /// Receive mbuf allocation failures.
    pub rx_nombuf: u64,
}

/// RSS hash fields op25b asks for: IPv4/IPv6 addresses and TCP/UDP ports.
pub fn rss_ip_tcp_udp() -> u64 {
    // SAFETY: reading immutable C constants.
    unsafe { sys::dpdk_shim_ETH_RSS_IP | sys::dpdk_shim_ETH_RSS_TCP | sys::dpdk_shim_ETH_RSS_UDP }
}

fn cstr_to_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: DPDK returns NUL-terminated strings that live as long as the device.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl PortId {
    /// The port named `name` (a vdev name like `net_ring0`, or a PCI address).
    pub fn by_name(name: &str) -> Result<PortId> {
        const OP: &str = "PortId::by_name";
        ensure_running(OP)?;
        let c = crate::error::c_name(OP, "port name", name, sys::RTE_ETH_NAME_MAX_LEN as usize)?;
        let mut id = 0u16;
        // SAFETY: valid C string and out pointer.
        let ret = unsafe { sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_eth_dev_get_port_by_name({name:?}): no such port"),
                ret,
            ));
        }
        Ok(PortId(id))
    }

    /// Whether the id names an attached port.
    pub fn is_valid(self) -> bool {
        // SAFETY: rte_eth_dev_is_valid_port bounds-checks the id.
        crate::eal::is_running() && unsafe { sys::rte_eth_dev_is_valid_port(self.0) } != 0
    }

    fn check(self, op: &'static str) -> Result<()> {
        ensure_running(op)?;
        if self.is_valid() {
            Ok(())
        } else {
            Err(Error::invalid(op, format!("{self} does not exist")))
        }
    }

    fn raw_info(self, op: &'static str) -> Result<sys::rte_eth_dev_info> {
        self.check(op)?;
        let mut info = sys::rte_eth_dev_info::default();
        // SAFETY: valid port, valid out pointer.
        let ret = unsafe { sys::rte_eth_dev_info_get(self.0, &mut info) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_eth_dev_info_get({self})"),
                ret,
            ));
        }
        Ok(info)
    }

    /// Device information.
    pub fn info(self) -> Result<DevInfo> {
        let i = self.raw_info("PortId::info")?;
        Ok(DevInfo {
            driver_name: cstr_to_string(i.driver_name),
            max_rx_queues: i.max_rx_queues,
            max_tx_queues: i.max_tx_queues,
            nb_rx_queues: i.nb_rx_queues,
            nb_tx_queues: i.nb_tx_queues,
            flow_type_rss_offloads: i.flow_type_rss_offloads,
            rx_desc_max: i.rx_desc_lim.nb_max,
            tx_desc_max: i.tx_desc_lim.nb_max,
            min_mtu: i.min_mtu,
            max_mtu: i.max_mtu,
        })
    }

    /// The device name (`rte_eth_dev_get_name_by_port`).
    pub fn name(self) -> Result<String> {
        self.check("PortId::name")?;
        let mut buf = [0 as c_char; sys::RTE_ETH_NAME_MAX_LEN as usize];
        // SAFETY: the buffer has RTE_ETH_NAME_MAX_LEN bytes, as required.
        let ret = unsafe { sys::rte_eth_dev_get_name_by_port(self.0, buf.as_mut_ptr()) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_eth_dev_get_name_by_port({self})"),
                ret,
            ));
        }
        Ok(cstr_to_string(buf.as_ptr()))
    }

    /// The NUMA socket of the device, or `None` if unknown.
    pub fn socket_id(self) -> Option<i32> {
        if !self.is_valid() {
            return None;
        }
        // SAFETY: valid port.
        let s = unsafe { sys::rte_eth_dev_socket_id(self.0) };
        (s >= 0).then_some(s)
    }

    /// The primary MAC address.
    pub fn mac_addr(self) -> Result<[u8; 6]> {
        self.check("PortId::mac_addr")?;
        let mut a = sys::rte_ether_addr::default();
        // SAFETY: valid port, valid out pointer.
        let ret = unsafe { sys::rte_eth_macaddr_get(self.0, &mut a) };
        if ret != 0 {
            return Err(Error::from_ret(format!("rte_eth_macaddr_get({self})"), ret));
        }
        Ok(a.addr_bytes)
    }

    /// Configures the port (`rte_eth_dev_configure`), which must be stopped.
    /// With `conf.rss` and more than one rx queue, RSS is enabled on the
    /// IP/TCP/UDP hash fields the device supports. Returns the RSS hash fields
    /// in effect (0: no RSS).
    pub fn configure(self, conf: &PortConf) -> Result<u64> {
        const OP: &str = "PortId::configure";
        let info = self.raw_info(OP)?;
        if conf.rx_queues == 0 && conf.tx_queues == 0 {
            return Err(Error::invalid(
                OP,
                "a port needs at least one rx or tx queue",
            ));
        }
        if conf.rx_queues > info.max_rx_queues || conf.tx_queues > info.max_tx_queues {
            return Err(Error::invalid(
                OP,
                format!(
                    "{self} supports at most {} rx and {} tx queues, {} and {} requested",
                    info.max_rx_queues, info.max_tx_queues, conf.rx_queues, conf.tx_queues
                ),
            ));
        }
        let mut eth = sys::rte_eth_conf::default();
        let mut rss_hf = 0;
        // The symmetric Toeplitz key (0x6d5a repeated; Woo & Park, 2012): both
        // directions of a flow hash alike, so a flow's two directions meet the
        // same worker. Sized to the device's key (40 bytes on most, 52 on i40e).
        let mut key = [0u8; 64];
        for (i, b) in key.iter_mut().enumerate() {
            *b = if i % 2 == 0 { 0x6d } else { 0x5a };
        }
        if conf.rss && conf.rx_queues > 1 {
            rss_hf = rss_ip_tcp_udp() & info.flow_type_rss_offloads;
            if rss_hf != 0 {
                eth.rxmode.mq_mode = sys::RTE_ETH_MQ_RX_RSS;
                let key_len = usize::from(info.hash_key_size);
                if key_len > 0 && key_len <= key.len() {
                    // DPDK copies the key during configure; `key` outlives the call.
                    eth.rx_adv_conf.rss_conf.rss_key = key.as_mut_ptr();
                    eth.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
                } else {
                    eth.rx_adv_conf.rss_conf.rss_key = std::ptr::null_mut();
                }
                eth.rx_adv_conf.rss_conf.rss_hf = rss_hf;
            }
        }
        with_claims(|c| {
            if let Some(why) = c.port_busy(self.0) {
                return Err(Error::Busy {
                    op: format!("configure {self}"),
                    reason: why,
                });
            }
            // SAFETY: valid port; `eth` is a fully initialised configuration;
            // control calls are serialised by the lock we hold.
            let ret =
                unsafe { sys::rte_eth_dev_configure(self.0, conf.rx_queues, conf.tx_queues, &eth) };
            if ret != 0 {
                return Err(Error::from_ret(
                    format!("rte_eth_dev_configure({self})"),
                    ret,
                ));
            }
            if let Some(mtu) = conf.mtu {
                // SAFETY: valid port; serialised by the lock.
                let ret = unsafe { sys::rte_eth_dev_set_mtu(self.0, mtu) };
                if ret != 0 {
                    return Err(Error::from_ret(
                        format!("rte_eth_dev_set_mtu({self}, {mtu})"),
                        ret,
                    ));
                }
            }
            Ok(rss_hf)
        })
    }

    /// Clamps descriptor counts to what the device accepts
    /// (`rte_eth_dev_adjust_nb_rx_tx_desc`); returns the adjusted (rx, tx).
    pub fn adjust_desc(self, rx: u16, tx: u16) -> Result<(u16, u16)> {
        self.check("PortId::adjust_desc")?;
        let (mut r, mut t) = (rx, tx);
        // SAFETY: valid port and out pointers.
        let ret = unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(self.0, &mut r, &mut t) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_eth_dev_adjust_nb_rx_tx_desc({self})"),
                ret,
            ));
        }
        Ok((r, t))
    }

    /// Sets up receive queue `queue` with `nb_desc` descriptors, filled from
    /// `pool`, on NUMA `socket` (`rte_eth_rx_queue_setup`).
    pub fn rx_queue_setup(
        self,
        queue: u16,
        nb_desc: u16,
        socket: i32,
        pool: &Mempool,
    ) -> Result<()> {
        self.check("PortId::rx_queue_setup")?;
        with_claims(|c| {
            if c.rx.contains(&(self.0, queue)) {
                return Err(Error::Busy {
                    op: format!("set up rx queue {queue} of {self}"),
                    reason: "its RxQueue handle is alive".into(),
                });
            }
            let sock = if socket < 0 {
                socket_any_u32()
            } else {
                socket as u32
            };
            // SAFETY: valid port; NULL rx_conf means the device defaults; the
            // pool outlives the queue (pools live until EAL cleanup).
            let ret = unsafe {
                sys::rte_eth_rx_queue_setup(
                    self.0,
                    queue,
                    nb_desc,
                    sock,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            if ret != 0 {
                return Err(Error::from_ret(
                    format!("rte_eth_rx_queue_setup({self}, queue {queue})"),
                    ret,
                ));
            }
            Ok(())
        })
    }

    /// Sets up transmit queue `queue` with `nb_desc` descriptors on NUMA
    /// `socket` (`rte_eth_tx_queue_setup`).
    pub fn tx_queue_setup(self, queue: u16, nb_desc: u16, socket: i32) -> Result<()> {
        self.check("PortId::tx_queue_setup")?;
        with_claims(|c| {
            if c.tx.contains(&(self.0, queue)) {
                return Err(Error::Busy {
                    op: format!("set up tx queue {queue} of {self}"),
                    reason: "its TxQueue handle is alive".into(),
                });
            }
            let sock = if socket < 0 {
                socket_any_u32()
            } else {
                socket as u32
            };
            // SAFETY: valid port; NULL tx_conf means the device defaults.
            let ret = unsafe {
                sys::rte_eth_tx_queue_setup(self.0, queue, nb_desc, sock, std::ptr::null())
            };
            if ret != 0 {
                return Err(Error::from_ret(
                    format!("rte_eth_tx_queue_setup({self}, queue {queue})"),
                    ret,
                ));
            }
            Ok(())
        })
    }

    /// Starts the port (`rte_eth_dev_start`).
    pub fn start(self) -> Result<()> {
        self.check("PortId::start")?;
        with_claims(|_| {
            // SAFETY: valid port; serialised by the lock.
            let ret = unsafe { sys::rte_eth_dev_start(self.0) };
            if ret != 0 {
                return Err(Error::from_ret(format!("rte_eth_dev_start({self})"), ret));
            }
            Ok(())
        })
    }

    /// Stops the port (`rte_eth_dev_stop`). Fails while queue handles exist.
    pub fn stop(self) -> Result<()> {
        self.check("PortId::stop")?;
        with_claims(|c| {
            if let Some(why) = c.port_busy(self.0) {
                return Err(Error::Busy {
                    op: format!("stop {self}"),
                    reason: why,
                });
            }
            // SAFETY: valid port; no queue handle exists, so no lcore polls it.
            let ret = unsafe { sys::rte_eth_dev_stop(self.0) };
            if ret != 0 {
                return Err(Error::from_ret(format!("rte_eth_dev_stop({self})"), ret));
            }
            Ok(())
        })
    }

    /// Closes the port (`rte_eth_dev_close`): it must be stopped, and the id
    /// becomes invalid. Fails while queue handles exist.
    pub fn close(self) -> Result<()> {
        self.check("PortId::close")?;
        with_claims(|c| {
            if let Some(why) = c.port_busy(self.0) {
                return Err(Error::Busy {
                    op: format!("close {self}"),
                    reason: why,
                });
            }
            // SAFETY: valid port; no queue handle exists.
            let ret = unsafe { sys::rte_eth_dev_close(self.0) };
            if ret != 0 {
                return Err(Error::from_ret(format!("rte_eth_dev_close({self})"), ret));
            }
            Ok(())
        })
    }

    /// Turns promiscuous mode on or off.
    pub fn set_promiscuous(self, on: bool) -> Result<()> {
        self.check("PortId::set_promiscuous")?;
        with_claims(|_| {
            // SAFETY: valid port; serialised by the lock.
            let ret = unsafe {
                if on {
                    sys::rte_eth_promiscuous_enable(self.0)
                } else {
                    sys::rte_eth_promiscuous_disable(self.0)
                }
            };
            // Virtual devices without the operation report ENOTSUP, which is
            // not a failure for a device that receives everything anyway.
            if ret != 0 && ret != -95 {
                return Err(Error::from_ret(
                    format!(
                        "rte_eth_promiscuous_{}({self})",
                        if on { "enable" } else { "disable" }
                    ),
                    ret,
                ));
            }
            Ok(())
        })
    }

    /// Whether promiscuous mode is on.
    pub fn promiscuous(self) -> Result<bool> {
        self.check("PortId::promiscuous")?;
        // SAFETY: valid port.
        let r = unsafe { sys::rte_eth_promiscuous_get(self.0) };
        if r < 0 {
            return Err(Error::from_ret(
                format!("rte_eth_promiscuous_get({self})"),
                r,
            ));
        }
        Ok(r == 1)
    }

    /// Current link state, without waiting (`rte_eth_link_get_nowait`).
    pub fn link(self) -> Result<Link> {
        self.check("PortId::link")?;
        let mut l = sys::rte_eth_link::default();
        // SAFETY: valid port, valid out pointer.
        let ret = unsafe { sys::rte_eth_link_get_nowait(self.0, &mut l) };
        if ret != 0 {
            return Err(Error::from_ret(
                format!("rte_eth_link_get_nowait({self})"),
                ret,
            ));
        }
        let speed = l.link_speed;
        Ok(Link {
            speed_mbps: (speed != sys::RTE_ETH_SPEED_NUM_UNKNOWN
                && speed != sys::RTE_ETH_SPEED_NUM_NONE)
                .then_some(speed),
            up: l.link_status() != 0,
            full_duplex: l.link_duplex() != 0,
            autoneg: l.link_autoneg() != 0,
        })
    }

    /// Basic counters (`rte_eth_stats_get`).
    pub fn stats(self) -> Result<Stats> {
        self.check("PortId::stats")?;
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: valid port, valid out pointer.
        let ret = unsafe { sys::rte_eth_stats_get(self.0, &mut s) };
        if ret != 0 {
            return Err(Error::from_ret(format!("rte_eth_stats_get({self})"), ret));
        }
        Ok(Stats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        })
    }

    /// Resets the basic counters (`rte_eth_stats_reset`).
    pub fn reset_stats(self) -> Result<()> {
        self.check("PortId::reset_stats")?;
        // SAFETY: valid port.
        let ret = unsafe { sys::rte_eth_stats_reset(self.0) };
        if ret != 0 {
            return Err(Error::from_ret(format!("rte_eth_stats_reset({self})"), ret));
        }
        Ok(())
    }

    /// The exclusive handle to receive queue `queue` (configured, not
    /// necessarily started). At most one exists per queue.
    pub fn rx_queue(self, queue: u16) -> Result<RxQueue> {
        let info = self.raw_info("PortId::rx_queue")?;
        if queue >= info.nb_rx_queues {
            return Err(Error::invalid(
                "PortId::rx_queue",
                format!(
                    "{self} has {} rx queue(s), no queue {queue}",
                    info.nb_rx_queues
                ),
            ));
        }
        with_claims(|c| {
            if !c.rx.insert((self.0, queue)) {
                return Err(Error::Busy {
                    op: format!("claim rx queue {queue} of {self}"),
                    reason: "another RxQueue handle owns it".into(),
                });
            }
            Ok(RxQueue {
                port: self.0,
                queue,
            })
        })
    }

    /// The exclusive handle to transmit queue `queue`. At most one exists per queue.
    pub fn tx_queue(self, queue: u16) -> Result<TxQueue> {
        let info = self.raw_info("PortId::tx_queue")?;
        if queue >= info.nb_tx_queues {
            return Err(Error::invalid(
                "PortId::tx_queue",
                format!(
                    "{self} has {} tx queue(s), no queue {queue}",
                    info.nb_tx_queues
                ),
            ));
        }
        with_claims(|c| {
            if !c.tx.insert((self.0, queue)) {
                return Err(Error::Busy {
                    op: format!("claim tx queue {queue} of {self}"),
                    reason: "another TxQueue handle owns it".into(),
                });
            }
            Ok(TxQueue {
                port: self.0,
                queue,
            })
        })
    }
}

fn socket_any_u32() -> u32 {
    sys::SOCKET_ID_ANY as u32
}

/// Exclusive access to one receive queue; send it to the lcore that polls it.
#[derive(Debug)]
pub struct RxQueue {
    port: u16,
    queue: u16,
}

/// Exclusive access to one transmit queue; send it to the lcore that uses it.
#[derive(Debug)]
pub struct TxQueue {
    port: u16,
    queue: u16,
}

/// The PMD's private queue pointer, or NULL if the queue is not set up or
/// the port is not started.
#[inline]
fn queue_data(qd: &sys::rte_ethdev_qdata, queue: u16) -> *mut std::os::raw::c_void {
    // SAFETY: `data` points at an array of RTE_MAX_QUEUES_PER_PORT pointers
    // (ethdev allocates that many; the stopped-port dummy table is as large)
    // and queue < RTE_MAX_QUEUES_PER_PORT was checked when the handle was made.
    unsafe { *qd.data.add(usize::from(queue)) }
}

impl RxQueue {
    /// The port.
    pub fn port(&self) -> PortId {
        PortId(self.port)
    }

    /// The queue index.
    pub fn queue(&self) -> u16 {
        self.queue
    }

    /// Receives up to `bufs.len()` packets into `bufs`; returns how many.
    /// The caller owns the returned mbufs (wrap them with
    /// [`crate::Mbuf::from_raw`] or free them). Returns 0 while the port is
    /// not started.
    #[inline]
    pub fn rx_burst(&mut self, bufs: &mut [*mut sys::rte_mbuf]) -> usize {
        let n = bufs.len().min(usize::from(u16::MAX)) as u16;
        // SAFETY: port < RTE_MAX_ETHPORTS and queue < RTE_MAX_QUEUES_PER_PORT
        // (checked at claim); the claim guarantees this lcore is the only
        // poller and that nobody stops/reconfigures the port meanwhile; the
        // NULL check skips queues that are not set up (as DPDK's debug build does).
        unsafe {
            let ops = &*std::ptr::addr_of!(sys::rte_eth_fp_ops)
                .cast::<sys::rte_eth_fp_ops>()
                .add(usize::from(self.port));
            if queue_data(&ops.rxq, self.queue).is_null() {
                return 0;
            }
            usize::from(sys::rte_eth_rx_burst(
                self.port,
                self.queue,
                bufs.as_mut_ptr(),
                n,
            ))
        }
    }

    /// Receives into the free room of `burst`; returns how many arrived.
    #[inline]
    pub fn rx_burst_into(&mut self, burst: &mut Burst) -> usize {
        let n = self.rx_burst(burst.spare_raw());
        // SAFETY: the PMD wrote n valid mbufs, now owned by the burst.
        unsafe { burst.commit(n) };
        n
    }
}

impl TxQueue {
    /// The port.
    pub fn port(&self) -> PortId {
        PortId(self.port)
    }

    /// The queue index.
    pub fn queue(&self) -> u16 {
        self.queue
    }

    /// Transmits raw mbufs; returns how many the PMD took (the first ones of
    /// `pkts`). The others stay the caller's.
    ///
    /// # Safety
    /// Every pointer must be a valid, exclusively owned packet mbuf; the
    /// accepted ones must not be touched afterwards.
    #[inline]
    pub unsafe fn tx_burst_raw(&mut self, pkts: &[*mut sys::rte_mbuf]) -> usize {
        let n = pkts.len().min(usize::from(u16::MAX)) as u16;
        // SAFETY: as in rx_burst for port/queue; mbufs guaranteed by the caller.
        // The PMD does not write the array, whatever the C prototype says.
        unsafe {
            let ops = &*std::ptr::addr_of!(sys::rte_eth_fp_ops)
                .cast::<sys::rte_eth_fp_ops>()
                .add(usize::from(self.port));
            if queue_data(&ops.txq, self.queue).is_null() {
                return 0;
            }
            usize::from(sys::rte_eth_tx_burst(
                self.port,
                self.queue,
                pkts.as_ptr().cast_mut(),
                n,
            ))
        }
    }

    /// Transmits the mbufs of `burst`; the sent ones leave it, the rest move
    /// to its front (retry or [`Burst::clear`] them). Returns how many were sent.
    #[inline]
    pub fn tx_burst(&mut self, burst: &mut Burst) -> usize {
        // SAFETY: a Burst holds valid exclusively owned mbufs; the sent ones
        // are removed from it at once.
        let sent = unsafe { self.tx_burst_raw(burst.raw_slice()) };
        burst.consume_front(sent);
        sent
    }
}

impl Drop for RxQueue {
    fn drop(&mut self) {
        with_claims(|c| c.rx.remove(&(self.port, self.queue)));
    }
}

impl Drop for TxQueue {
    fn drop(&mut self) {
        with_claims(|c| c.tx.remove(&(self.port, self.queue)));
    }
}
