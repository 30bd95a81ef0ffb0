//! Port setup and teardown, and the assignment of queues to worker lcores.
//!
//! Each pair's two ports get one rx and one tx queue per worker that serves the
//! pair. With more workers than pairs, a pair's ports get several queues and RSS
//! spreads flows over them; with more pairs than workers, a worker serves several
//! pairs on queue 0 of each.

use std::collections::BTreeMap;

use dpdk::{Mempool, PortConf, PortId, RxQueue, TxQueue, SOCKET_ID_ANY};

use crate::{Error, Pair};

/// Descriptors per rx and tx queue (adjusted to what the device allows).
pub const RX_DESC: u16 = 1024;
pub const TX_DESC: u16 = 1024;

/// The queues one worker uses for one pair: it receives on both ports and
/// transmits on both (forwarding to the peer, replying out of the ingress port).
#[derive(Debug)]
pub struct PairQueues {
    pub pair: Pair,
    pub access_rx: RxQueue,
    pub access_tx: TxQueue,
    pub core_rx: RxQueue,
    pub core_tx: TxQueue,
}

/// Which worker serves which pair on which queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Per worker (index into the worker list): (pair index, queue) it serves.
    pub per_worker: Vec<Vec<(usize, u16)>>,
    /// Per pair: number of queues its ports get.
    pub queues_per_pair: Vec<u16>,
}

/// Assigns `workers` workers to `pairs` pairs, where `max_queues[p]` is the most
/// queues both ports of pair `p` can take.
pub fn plan(pairs: usize, workers: usize, max_queues: &[u16]) -> Plan {
    let mut per_worker = vec![Vec::new(); workers];
    let mut queues_per_pair = vec![0u16; pairs];
    if workers == 0 {
        return Plan {
            per_worker,
            queues_per_pair,
        };
    }
    if workers <= pairs {
        for p in 0..pairs {
            per_worker[p % workers].push((p, 0));
            queues_per_pair[p] = 1;
        }
    } else {
        for (w, slot) in per_worker.iter_mut().enumerate() {
            let p = w % pairs;
            let q = (w / pairs) as u16;
            if q < max_queues[p].max(1) {
                slot.push((p, q));
                queues_per_pair[p] = queues_per_pair[p].max(q + 1);
            }
        }
    }
    Plan {
        per_worker,
        queues_per_pair,
    }
}

/// The ports of the pairs, configured and started.
pub struct Ports {
    pub ports: Vec<PortId>,
}

/// Checks the pairs against the ports that exist: every id valid, no port in two
/// pairs (or twice in one).
pub fn check_pairs(pairs: &[Pair]) -> Result<(), Error> {
    let count = dpdk::Port::count();
    if count == 0 {
        return Err(Error::Config(
            "no DPDK ports: give NICs with -a PCI, or virtual devices with --vdev (e.g. --vdev=net_ring0)".into(),
        ));
    }
    let mut seen = BTreeMap::new();
    for (i, p) in pairs.iter().enumerate() {
        for (role, id) in [("access", p.access), ("core", p.core)] {
            if !PortId(id).is_valid() {
                return Err(Error::Config(format!(
                    "--pair {}:{}: port {id} does not exist (there are {count} ports: {}; \
                     a device that failed to start is not a port: see the EAL log above)",
                    p.access,
                    p.core,
                    describe_ports()
                )));
            }
            if let Some(prev) = seen.insert(id, (i, role)) {
                return Err(Error::Config(format!(
                    "port {id} is used twice (as {} of pair {} and as {role} of pair {i})",
                    prev.1, prev.0
                )));
            }
        }
    }
    Ok(())
}

/// "0 (net_pcap0), 1 (net_pcap1)".
pub fn describe_ports() -> String {
    dpdk::Port::all()
        .into_iter()
        .map(|p| format!("{} ({})", p.0, p.name().unwrap_or_else(|_| "?".into())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Most queues a port pair can take on both ports.
pub fn max_queues(pair: Pair) -> Result<u16, Error> {
    let a = PortId(pair.access).info()?;
    let c = PortId(pair.core).info()?;
    Ok(a.max_rx_queues
        .min(a.max_tx_queues)
        .min(c.max_rx_queues)
        .min(c.max_tx_queues)
        .max(1))
}

/// Number of mbufs the pool needs: every descriptor of every queue can hold one,
/// plus bursts in flight per worker, plus the per-lcore caches.
pub fn mbufs_needed(queues_per_pair: &[u16], workers: usize) -> u32 {
    let descs: u32 = queues_per_pair
        .iter()
        .map(|&q| 2 * u32::from(q) * u32::from(RX_DESC + TX_DESC))
        .sum();
    let in_flight = (workers as u32 + 1) * 4 * dpdk::MAX_BURST as u32;
    let caches = (workers as u32 + 1) * MEMPOOL_CACHE;
    // A power of two minus one is the optimum size for the ring under the pool.
    (descs + in_flight + caches + 1024).next_power_of_two() - 1
}

pub const MEMPOOL_CACHE: u32 = 256;

/// Configures and starts every port of `pairs` with the planned queue counts.
pub fn start(pairs: &[Pair], plan: &Plan, pool: &Mempool) -> Result<Ports, Error> {
    let mut ports = Vec::new();
    for (p, pair) in pairs.iter().enumerate() {
        let nq = plan.queues_per_pair[p].max(1);
        for id in [pair.access, pair.core] {
            let port = PortId(id);
            let conf = PortConf {
                rx_queues: nq,
                tx_queues: nq,
                rss: nq > 1,
                mtu: None,
            };
            port.configure(&conf)?;
            let (rxd, txd) = port.adjust_desc(RX_DESC, TX_DESC)?;
            let socket = port.socket_id().unwrap_or(SOCKET_ID_ANY);
            for q in 0..nq {
                port.rx_queue_setup(q, rxd, socket, pool)?;
                port.tx_queue_setup(q, txd, socket)?;
            }
            port.start()?;
            // A bump in the wire must see every frame, whatever its destination
            // MAC. Virtual devices may not support it; that is not an error.
            let _ = port.set_promiscuous(true);
            ports.push(port);
        }
    }
    Ok(Ports { ports })
}

/// Takes the queue handles of one worker's assignments.
pub fn take_queues(pairs: &[Pair], assignment: &[(usize, u16)]) -> Result<Vec<PairQueues>, Error> {
    assignment
        .iter()
        .map(|&(p, q)| {
            let pair = pairs[p];
            Ok(PairQueues {
                pair,
                access_rx: PortId(pair.access).rx_queue(q)?,
                access_tx: PortId(pair.access).tx_queue(q)?,
                core_rx: PortId(pair.core).rx_queue(q)?,
                core_tx: PortId(pair.core).tx_queue(q)?,
            })
        })
        .collect()
}

impl Ports {
    /// Stops and closes every port; `net_pcap` completes its output files here.
    /// Every port is attempted; the first error is returned.
    pub fn stop_and_close(self) -> Result<(), Error> {
        let mut first = None;
        for p in self.ports {
            if let Err(e) = p.stop().and_then(|_| p.close()) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), |e| Err(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_per_pair_uses_queue_zero() {
        let p = plan(1, 1, &[4]);
        assert_eq!(p.per_worker, vec![vec![(0, 0)]]);
        assert_eq!(p.queues_per_pair, vec![1]);
    }

    #[test]
    fn more_workers_than_pairs_get_one_queue_each_up_to_the_device_limit() {
        let p = plan(2, 5, &[4, 2]);
        // workers 0,2,4 -> pair 0 queues 0,1,2; workers 1,3 -> pair 1 queues 0,1.
        assert_eq!(
            p.per_worker,
            vec![
                vec![(0, 0)],
                vec![(1, 0)],
                vec![(0, 1)],
                vec![(1, 1)],
                vec![(0, 2)]
            ]
        );
        assert_eq!(p.queues_per_pair, vec![3, 2]);
        let p = plan(1, 3, &[1]);
        assert_eq!(
            p.per_worker,
            vec![vec![(0, 0)], vec![], vec![]],
            "devices with one queue leave extra workers idle"
        );
    }

    #[test]
    fn fewer_workers_than_pairs_share_pairs_round_robin() {
        let p = plan(3, 2, &[1, 1, 1]);
        assert_eq!(p.per_worker, vec![vec![(0, 0), (2, 0)], vec![(1, 0)]]);
    }

    #[test]
    fn the_pool_covers_every_descriptor() {
        let n = mbufs_needed(&[1], 1);
        assert!(n >= 2 * (RX_DESC + TX_DESC) as u32);
        assert_eq!((n + 1).count_ones(), 1);
    }
}
