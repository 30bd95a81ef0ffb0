//! DPDK telemetry commands, so `dpdk-telemetry.py` (or any client of the
//! telemetry socket) reads op25b as it reads any DPDK application:
//!
//! - `/op25b/stats`: the counters as one flat dict (`rx`, `outbound/rx`,
//!   `inbound/dropped_rate_limit`, `pool/NAME/blocked`, `worker/N/loops`, ...);
//! - `/op25b/config`: generation, hash, load time and the pools' sizes.
//!
//! The callbacks run on DPDK's telemetry thread and ask the control loop
//! through a [`Handle`], like the HTTP API.

use dataplane::DirTotals;
use dpdk::telemetry::{register_cmd, TelData, MAX_STRING_LEN};

use crate::controller::Handle;
use crate::Snapshot;

/// Entries a telemetry dict may hold (`RTE_TEL_MAX_DICT_ENTRIES`).
const MAX_ENTRIES: usize = 256;

/// DPDK 22.11 accepts only `[A-Za-z0-9_/]` in dict keys; other characters
/// of pool names become `_`.
pub fn key_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A dict being filled, within DPDK's limits: keys that are too long or
/// entries over the limit are counted in `omitted` instead of failing the reply.
struct Dict<'a, 'b> {
    d: &'a mut TelData<'b>,
    n: usize,
    omitted: u64,
}

impl Dict<'_, '_> {
    fn fits(&mut self, key: &str) -> bool {
        // Keep one entry for `omitted` itself.
        if key.len() > MAX_STRING_LEN || self.n + 2 > MAX_ENTRIES {
            self.omitted += 1;
            return false;
        }
        self.n += 1;
        true
    }

    fn u64(&mut self, key: &str, v: u64) -> dpdk::Result<()> {
        if self.fits(key) {
            self.d.add_u64(key, v)?;
        }
        Ok(())
    }

    fn str(&mut self, key: &str, v: &str) -> dpdk::Result<()> {
        if v.len() <= MAX_STRING_LEN && self.fits(key) {
            self.d.add_str(key, v)?;
        } else if v.len() > MAX_STRING_LEN {
            self.omitted += 1;
        }
        Ok(())
    }

    fn finish(self) -> dpdk::Result<()> {
        if self.omitted > 0 {
            self.d.add_u64("omitted", self.omitted)?;
        }
        Ok(())
    }
}

fn dir(d: &mut Dict<'_, '_>, prefix: &str, t: &DirTotals) -> dpdk::Result<()> {
    for (k, v) in [
        ("rx", t.rx),
        ("forwarded", t.forwarded),
        ("replied_rst", t.replied_rst),
        ("replied_icmp", t.replied_icmp),
        ("dropped_policy", t.dropped_policy),
        ("dropped_rate_limit", t.dropped_rate_limit),
        ("dropped_tx_full", t.dropped_tx_full),
        ("dropped_tiny_fragment", t.dropped_tiny_fragment),
        ("dropped_no_mbuf", t.dropped_no_mbuf),
        ("monitored", t.monitored),
        ("unparsed", t.unparsed),
    ] {
        d.u64(&format!("{prefix}/{k}"), v)?;
    }
    Ok(())
}

fn stats(s: &Snapshot, data: &mut TelData<'_>) -> dpdk::Result<()> {
    data.start_dict()?;
    let mut d = Dict {
        d: data,
        n: 0,
        omitted: 0,
    };
    let r = &s.report;
    let t = &r.totals;
    d.u64("generation", r.generation)?;
    d.str("config_hash", &r.config_hash)?;
    d.u64("healthy", u64::from(s.health.ok))?;
    d.u64("uptime_s", r.elapsed_s as u64)?;
    for (k, v) in [
        ("rx", t.rx),
        ("forwarded", t.forwarded),
        ("replied", t.replied),
        ("dropped", t.dropped),
        ("monitored", t.monitored),
        ("unparsed", t.unparsed),
        ("samples_dropped", t.samples_dropped),
        ("mempool_in_use", u64::from(r.mempool_in_use)),
        ("mempool_size", u64::from(r.mempool_size)),
    ] {
        d.u64(k, v)?;
    }
    dir(&mut d, "outbound", &t.outbound)?;
    dir(&mut d, "inbound", &t.inbound)?;
    for w in s.per_worker.iter().filter(|w| w.running) {
        d.u64(&format!("worker/{}/loops", w.index), w.loops)?;
        d.u64(&format!("worker/{}/rx", w.index), w.totals.rx)?;
    }
    for (name, p) in &r.pools {
        d.u64(&format!("pool/{}/blocked", key_part(name)), p.blocked)?;
        d.u64(&format!("pool/{}/monitored", key_part(name)), p.monitored)?;
    }
    d.finish()
}

fn config(c: &crate::ActiveConfig, data: &mut TelData<'_>) -> dpdk::Result<()> {
    data.start_dict()?;
    let mut d = Dict {
        d: data,
        n: 0,
        omitted: 0,
    };
    d.u64("generation", c.generation)?;
    d.str("hash", &c.hash)?;
    d.str("loaded_at", &c.loaded_at)?;
    d.u64("yaml_bytes", c.yaml.len() as u64)?;
    d.u64("pools", c.summary.pools.len() as u64)?;
    d.str(
        "default_action",
        &format!("{:?}", c.summary.default_action).to_lowercase(),
    )?;
    d.u64("inbound_enabled", u64::from(c.summary.inbound_enabled))?;
    d.u64(
        "reply_rate_per_sec",
        u64::from(c.summary.reply_rate_per_sec),
    )?;
    d.u64("relays", c.summary.relays.len() as u64)?;
    for p in &c.summary.pools {
        d.str(
            &format!("pool/{}/mode", key_part(&p.name)),
            &format!("{:?}", p.mode).to_lowercase(),
        )?;
        d.u64(
            &format!("pool/{}/prefixes", key_part(&p.name)),
            (p.prefixes.ipv4 + p.prefixes.ipv6) as u64,
        )?;
    }
    d.finish()
}

fn unavailable(why: String) -> dpdk::Error {
    tracing::debug!("telemetry: {why}");
    dpdk::Error::Busy {
        op: "op25b telemetry".into(),
        reason: why,
    }
}

/// Registers `/op25b/stats` and `/op25b/config` (once per process).
pub fn register(handle: Handle) -> dpdk::Result<()> {
    let h = handle.clone();
    register_cmd(
        "/op25b/stats",
        "op25b counters: totals, per direction, per worker, per pool. No parameters",
        move |_params, data| {
            let s = h.snapshot().map_err(unavailable)?;
            stats(&s, data)
        },
    )?;
    register_cmd(
        "/op25b/config",
        "op25b running config: generation, hash, load time, pools. No parameters",
        move |_params, data| {
            let c = handle.config().map_err(unavailable)?;
            config(&c, data)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::key_part;

    #[test]
    fn pool_names_become_valid_telemetry_keys() {
        assert_eq!(key_part("ftth-dynamic.v6 x"), "ftth_dynamic_v6_x");
        assert_eq!(key_part("mobile_1"), "mobile_1");
    }
}
