//! Helpers for unit tests.

use dataplane::{SampleAction, SampleRecord};

/// A sample from `src` toward 192.0.2.10:25 in `pool`.
pub fn record(src: &str, pool: &str, monitored: bool) -> SampleRecord {
    SampleRecord {
        time: "2026-01-01T00:00:00.000000Z".into(),
        src: src.parse().unwrap(),
        sport: 40000,
        dst: "192.0.2.10".parse().unwrap(),
        dport: 25,
        pool: pool.into(),
        action: if monitored {
            SampleAction::Monitor
        } else {
            SampleAction::Rst
        },
        direction: "outbound",
        vlan: Vec::new(),
        pppoe_session: None,
        generation: 1,
    }
}
