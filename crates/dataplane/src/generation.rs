//! A published policy generation: the compiled tables plus the per-worker,
//! per-pool counters that belong to exactly these tables (pool ids are only
//! meaningful within one generation).

use std::time::SystemTime;

use crate::stats::Counter;

/// Blocked and monitored counts of one pool, by one worker.
#[derive(Debug, Default)]
pub struct PoolCount {
    pub blocked: Counter,
    pub monitored: Counter,
}

/// One worker's per-pool counters for one generation.
#[derive(Debug)]
#[repr(align(64))]
pub struct WorkerPoolCounts(pub Box<[PoolCount]>);

/// What the workers read under RCU.
pub struct Generation {
    /// 1 for the config op25bd started with, +1 per publication.
    pub number: u64,
    pub tables: policy::Tables,
    /// The YAML text it was compiled from, as pushed (for `GET /v1/config`).
    pub source: String,
    pub loaded_at: SystemTime,
    /// Indexed by worker, then by pool id.
    pub pool_counts: Box<[WorkerPoolCounts]>,
}

impl Generation {
    pub fn new(number: u64, tables: policy::Tables, source: String, workers: usize) -> Self {
        let pools = tables.pools().len();
        let pool_counts = (0..workers.max(1))
            .map(|_| WorkerPoolCounts((0..pools).map(|_| PoolCount::default()).collect()))
            .collect();
        Generation {
            number,
            tables,
            source,
            loaded_at: SystemTime::now(),
            pool_counts,
        }
    }

    /// (name, blocked, monitored) per pool, summed over workers.
    pub fn pool_totals(&self) -> Vec<(String, u64, u64)> {
        self.tables
            .pools()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (mut b, mut m) = (0, 0);
                for w in self.pool_counts.iter() {
                    b += w.0[i].blocked.get();
                    m += w.0[i].monitored.get();
                }
                (p.name.clone(), b, m)
            })
            .collect()
    }
}
