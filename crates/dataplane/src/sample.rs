//! Blocked-flow samples: what abuse desks use to find infected subscribers.
//!
//! A worker writes a small `Copy` record into its own single-producer ring;
//! the control core drains the rings, turns TSC stamps into wall-clock time and
//! pool ids into names, and writes JSON lines.

use std::net::IpAddr;

use classify::{Family, Parsed};
use serde::Serialize;

/// What happened to the sampled flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleAction {
    Rst,
    Icmp,
    Drop,
    /// Blocked, but the reply was over the rate limit (the frame was dropped).
    RateLimited,
    /// Monitor mode: forwarded and counted.
    Monitor,
}

/// One sampled frame, as a worker records it (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub tsc: u64,
    pub generation: u64,
    pub src: u128,
    pub dst: u128,
    pub v6: bool,
    pub sport: u16,
    pub dport: u16,
    pub pool: u16,
    pub action: SampleAction,
    /// 0: from an access port (outbound), 1: from a core port (inbound).
    pub dir: u8,
    pub vlan_count: u8,
    /// Outermost two VLAN ids (S-VLAN, C-VLAN).
    pub vlans: [u16; 2],
    pub pppoe_session: Option<u16>,
}

impl Sample {
    /// A placeholder for initialising arrays.
    pub const EMPTY: Sample = Sample {
        tsc: 0,
        generation: 0,
        src: 0,
        dst: 0,
        v6: false,
        sport: 0,
        dport: 0,
        pool: 0,
        action: SampleAction::Drop,
        dir: 0,
        vlan_count: 0,
        vlans: [0; 2],
        pppoe_session: None,
    };

    #[inline]
    pub fn new(
        p: &Parsed,
        tsc: u64,
        generation: u64,
        pool: u16,
        action: SampleAction,
        dir: u8,
    ) -> Self {
        let vl = p.vlans();
        Sample {
            tsc,
            generation,
            src: p.src,
            dst: p.dst,
            v6: p.family == Family::V6,
            sport: p.tcp.src_port,
            dport: p.tcp.dst_port,
            pool,
            action,
            dir,
            vlan_count: vl.len() as u8,
            vlans: [
                vl.first().copied().unwrap_or(0),
                vl.get(1).copied().unwrap_or(0),
            ],
            pppoe_session: p.pppoe_session,
        }
    }
}

/// A sample as written to `--blocked-log` (one JSON object per line).
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    /// RFC 3339 UTC time with microseconds.
    pub time: String,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub pool: String,
    pub action: SampleAction,
    pub direction: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vlan: Vec<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pppoe_session: Option<u16>,
    pub generation: u64,
}

fn ip(v: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(v.into())
    } else {
        IpAddr::V4((v as u32).into())
    }
}

impl SampleRecord {
    pub fn new(s: &Sample, unix_ns: u128, pool: String) -> Self {
        SampleRecord {
            time: rfc3339(unix_ns),
            src: ip(s.src, s.v6),
            sport: s.sport,
            dst: ip(s.dst, s.v6),
            dport: s.dport,
            pool,
            action: s.action,
            direction: if s.dir == 0 { "outbound" } else { "inbound" },
            vlan: s.vlans[..usize::from(s.vlan_count).min(2)].to_vec(),
            pppoe_session: s.pppoe_session,
            generation: s.generation,
        }
    }
}

/// Formats nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn rfc3339(unix_ns: u128) -> String {
    let secs = (unix_ns / 1_000_000_000) as i64;
    let micros = (unix_ns / 1000 % 1_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_767_225_600_123_456_789),
            "2026-01-01T00:00:00.123456Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
