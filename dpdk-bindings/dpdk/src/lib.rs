//! A small safe layer over DPDK 22.11 for op25b: EAL, lcores, ports,
//! mempools, mbufs, QSBR RCU, rings, FIB/LPM tables, cycles and telemetry.
//!
//! The raw bindings are re-exported as [`sys`]. `unsafe` code lives here and
//! in `dpdk-sys` only; every block says why it is sound.
//!
//! # Lifetimes of DPDK objects
//!
//! * [`Eal::init`] works once per process; every other constructor checks
//!   that the EAL is running and returns [`Error::EalNotRunning`] otherwise.
//! * Dropping the [`Eal`] waits for all worker lcores, then runs
//!   `rte_eal_cleanup`, which releases DPDK memory. Mempools, mbufs, rings,
//!   FIBs and queue handles must not be used after that: keep the `Eal` in
//!   `main` and let it be dropped last.
//! * [`Mempool`] handles are `Copy` and live until EAL cleanup.
//! * The fast path uses exclusive queue handles ([`RxQueue`], [`TxQueue`]);
//!   a port cannot be reconfigured, stopped or closed while one exists.
//!
//! # Hot path
//!
//! `RxQueue::rx_burst`, `TxQueue::tx_burst`, `QsbrReader::quiescent` and the
//! mbuf alloc/free calls go through the C wrappers bindgen generates for
//! DPDK's static-inline functions (one extra direct call, not inlinable by
//! LTO); the burst functions add one NULL check on the queue pointer, so a
//! queue that is not set up yields 0 packets instead of a crash. Mbuf field
//! accessors (`data`, `data_len`, `pkt_len`, `headroom`, ...) read the
//! `rte_mbuf` struct directly, and [`cycles::rdtsc`] is the instruction
//! itself on x86-64. Nothing on these paths allocates or locks.
//!
//! # Example
//!
//! ```no_run
//! use dpdk::{Eal, Mempool, PortConf, PortId, Burst, SOCKET_ID_ANY};
//! let args: Vec<String> = std::env::args().collect();
//! let eal = Eal::init(&args)?;
//! let pool = Mempool::pktmbuf_pool("rx", 8191, 256, dpdk::DEFAULT_DATA_ROOM, SOCKET_ID_ANY)?;
//! let port = PortId::by_name("net_ring0")?;
//! port.configure(&PortConf::default())?;
//! port.rx_queue_setup(0, 512, SOCKET_ID_ANY, &pool)?;
//! port.tx_queue_setup(0, 512, SOCKET_ID_ANY)?;
//! port.start()?;
//! let (mut rx, mut tx) = (port.rx_queue(0)?, port.tx_queue(0)?);
//! let mut burst = Burst::new();
//! rx.rx_burst_into(&mut burst);
//! tx.tx_burst(&mut burst);
//! burst.clear(); // whatever the PMD did not take
//! # drop(eal);
//! # Ok::<(), dpdk::Error>(())
//! ```

pub use dpdk_sys as sys;

pub mod cycles;
mod eal;
mod error;
pub mod fib;
pub mod lcore;
mod mbuf;
mod mempool;
mod port;
pub mod rcu;
pub mod ring;
pub mod ring_port;
pub mod telemetry;

pub use eal::{is_running, version, Eal};
pub use error::{rte_errno, strerror, Error, Result};
pub use mbuf::{free_bulk, Burst, Drain, Mbuf, Segments, MAX_BURST};
pub use mempool::{Mempool, DEFAULT_DATA_ROOM};
pub use port::{
    rss_ip_tcp_udp, DevInfo, Link, Port, PortConf, PortId, RxQueue, Stats, TxQueue, MAX_PORTS,
    MAX_QUEUES_PER_PORT,
};
pub use rcu::{Qsbr, QsbrReader, RcuCell};

/// Any NUMA socket (`SOCKET_ID_ANY`).
pub const SOCKET_ID_ANY: i32 = sys::SOCKET_ID_ANY;
