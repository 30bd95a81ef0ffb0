//! Benchmark traffic: realistic access-side mixes for the replay and latency
//! benchmarks, matched to the synthetic configs of [`policy::synth`].
//!
//! A mix is deterministic for a seed. Its shape ([`MixSpec`]): the IPv4/IPv6
//! split, the share of each access encapsulation (untagged, 802.1Q, QinQ,
//! PPPoE, 802.1Q + PPPoE), a few percent of TCP/25 segments, most of them from
//! the config's *enforced* pools, and the frame sizes: minimum-size frames
//! ("64 B": 60 bytes without FCS whenever the headers fit) or IMIX 7:4:1 of
//! 60/594/1514 bytes (64/598/1518 on the wire with the FCS).
//!
//! Subscriber addresses come from the prefixes of
//! [`policy::synth::big_config_yaml`]`(v4, v6, pools)`: the k-th IPv4 /30 of
//! 100.64.0.0/10 and the k-th IPv6 /56 of 2001:db8::/32, pool `k % pools` and
//! `(k + v4) % pools`, every 10th pool exempt, every 7th monitored (see
//! [`pool_mode`]). Servers are in 192.0.2.0/24 and 2001:db8:200::/48 (inside the
//! config's scope), the relay is 203.0.113.25 / 2001:db8:ff::25. The tests
//! check this plan against the compiled config, so a change to the synthetic
//! generator cannot silently turn the benchmark into "nothing is blocked".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::fixtures::{self, Encap, Side};
use crate::frame::{self, L3, L4};
use crate::rng::SplitMix64;

/// Frame sizes of a mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Every frame as small as its headers allow, at least 60 bytes (64 with FCS).
    Min64,
    /// Simple IMIX: 7 x 60, 4 x 594, 1 x 1514 bytes without FCS.
    Imix,
}

impl Sizes {
    pub fn name(self) -> &'static str {
        match self {
            Sizes::Min64 => "64B",
            Sizes::Imix => "IMIX",
        }
    }
}

/// IMIX classes (frame bytes without FCS, weight).
pub const IMIX: [(usize, u64); 3] = [(60, 7), (594, 4), (1514, 1)];

/// The shape of a benchmark mix.
#[derive(Debug, Clone)]
pub struct MixSpec {
    pub sizes: Sizes,
    /// Percent of IP frames that are IPv6.
    pub v6_percent: u64,
    /// Relative weights of the access encapsulations.
    pub encaps: Vec<(Encap, u64)>,
    /// Per mille of frames that are TCP segments to port 25.
    pub port25_per_mille: u64,
    /// Percent of the port-25 segments whose source is in an enforced pool.
    pub port25_enforced_percent: u64,
    /// Percent of the port-25 segments addressed to the allowed relay.
    pub port25_relay_percent: u64,
    /// Config the subscriber addresses are drawn from: IPv4 /30s, IPv6 /56s, pools.
    pub v4_prefixes: usize,
    pub v6_prefixes: usize,
    pub pools: usize,
}

impl MixSpec {
    /// The default benchmark mix: 30 % IPv6; 45 % untagged, 25 % 802.1Q, 10 %
    /// QinQ, 15 % PPPoE, 5 % 802.1Q + PPPoE; 3 % port-25 segments, 85 % of them
    /// from enforced pools and 5 % to the relay; subscribers from a config of
    /// `prefixes` prefixes (80 % IPv4 /30s, 20 % IPv6 /56s) in up to 64 pools.
    pub fn isp(sizes: Sizes, prefixes: usize) -> MixSpec {
        let v6 = prefixes / 5;
        MixSpec {
            sizes,
            v6_percent: 30,
            encaps: vec![
                (Encap::Untagged, 45),
                (Encap::Vlan, 25),
                (Encap::QinQ, 10),
                (Encap::Pppoe, 15),
                (Encap::VlanPppoe, 5),
            ],
            port25_per_mille: 30,
            port25_enforced_percent: 85,
            port25_relay_percent: 5,
            v4_prefixes: (prefixes - v6).max(1),
            v6_prefixes: v6.max(1),
            pools: prefixes.clamp(1, 64),
        }
    }

    /// The YAML config the mix is made for.
    pub fn config_yaml(&self) -> String {
        policy::synth::big_config_yaml(self.v4_prefixes, self.v6_prefixes, self.pools)
    }

    /// Total prefixes of [`Self::config_yaml`] (pools, relay and scope not counted).
    pub fn prefixes(&self) -> usize {
        self.v4_prefixes.min(policy::synth::MAX_V4) + self.v6_prefixes.min(policy::synth::MAX_V6)
    }
}

/// Mode of pool `i` in [`policy::synth::big_config_yaml`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Enforce,
    Monitor,
    Exempt,
}

pub fn pool_mode(i: usize) -> PoolMode {
    if i % 10 == 9 {
        PoolMode::Exempt
    } else if i % 7 == 6 {
        PoolMode::Monitor
    } else {
        PoolMode::Enforce
    }
}

/// A host inside the k-th IPv4 /30 of the synthetic config.
fn v4_host(k: usize, rng: &mut SplitMix64) -> Ipv4Addr {
    Ipv4Addr::from(0x6440_0000u32 + (k as u32) * 4 + 1 + rng.below(2) as u32)
}

/// A host inside the k-th IPv6 /56 of the synthetic config.
fn v6_host(k: usize, rng: &mut SplitMix64) -> Ipv6Addr {
    let net = (0x2001_0db8u128 << 96) | ((k as u128) << 72);
    let subnet = u128::from(rng.below(256)) << 64; // one of the /64s of the /56
    Ipv6Addr::from(net | subnet | u128::from(1 + rng.below(0xffff)))
}

/// A subscriber source: IPv4 or IPv6, and when `enforced` is given, from a pool of
/// that kind (enforced or not enforced).
fn subscriber(spec: &MixSpec, rng: &mut SplitMix64, v6: bool, enforced: Option<bool>) -> IpAddr {
    let (n, offset) = if v6 {
        (
            spec.v6_prefixes.min(policy::synth::MAX_V6),
            spec.v4_prefixes.min(policy::synth::MAX_V4),
        )
    } else {
        (spec.v4_prefixes.min(policy::synth::MAX_V4), 0)
    };
    let pools = spec.pools.max(1);
    // Rejection sampling: at most a few draws, every pool kind is common. With
    // fewer prefixes than needed for the kind asked for, the last draw stands.
    let mut k = rng.below(n as u64) as usize;
    if let Some(want) = enforced {
        for _ in 0..64 {
            let is = pool_mode((k + offset) % pools) == PoolMode::Enforce;
            if is == want {
                break;
            }
            k = rng.below(n as u64) as usize;
        }
    }
    if v6 {
        v6_host(k, rng).into()
    } else {
        v4_host(k, rng).into()
    }
}

fn pick_weighted<T: Copy>(rng: &mut SplitMix64, items: &[(T, u64)]) -> T {
    let total: u64 = items.iter().map(|i| i.1).sum();
    let mut x = rng.below(total.max(1));
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// Pads `l4`'s payload so the whole frame is `target` bytes (when the headers
/// leave room).
fn sized(l2: &frame::L2, l3: &L3, mut l4: L4, target: usize) -> Vec<u8> {
    let f = frame::build(l2, l3, &l4);
    if f.len() >= target {
        return f;
    }
    // Padding to 60 bytes is not payload: count the headers without it.
    let extra = target - frame_len_unpadded(&f, l2);
    match &mut l4 {
        L4::Tcp { payload, .. } | L4::Udp { payload, .. } => payload.resize(extra, 0x5a),
        _ => return f,
    }
    frame::build(l2, l3, &l4)
}

/// Length of a built frame without Ethernet padding: L2 headers + IP length.
fn frame_len_unpadded(f: &[u8], l2: &frame::L2) -> usize {
    let l2_len = 14 + 4 * l2.tags.len() + if l2.pppoe.is_some() { 8 } else { 0 };
    let ip = &f[l2_len..];
    let ip_len = match ip[0] >> 4 {
        4 => usize::from(u16::from_be_bytes([ip[2], ip[3]])),
        _ => 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]])),
    };
    l2_len + ip_len
}

/// What a generated frame is, for the mix's own accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TCP to port 25 from an enforced pool, not to the relay: blocked.
    Blocked,
    /// TCP to port 25 that passes (exempt or monitored pool, or to the relay).
    Port25Passing,
    /// Everything else (web, QUIC, submission).
    Other,
}

/// One frame of the mix and what it is.
pub fn frame(spec: &MixSpec, rng: &mut SplitMix64) -> (Vec<u8>, Kind) {
    let encap = pick_weighted(rng, &spec.encaps);
    let l2 = encap.l2(rng, Side::Access);
    let v6 = rng.chance(spec.v6_percent);
    let target = match spec.sizes {
        Sizes::Min64 => 60,
        Sizes::Imix => pick_weighted(rng, &IMIX),
    };
    let client_port = 32768 + rng.below(28000) as u16;
    let port25 = rng.below(1000) < spec.port25_per_mille;
    let (src, dst, l4, kind) = if port25 {
        let enforced = rng.chance(spec.port25_enforced_percent);
        let relay = rng.chance(spec.port25_relay_percent);
        let src = subscriber(spec, rng, v6, Some(enforced));
        let dst: IpAddr = match (v6, relay) {
            (false, false) => fixtures::outside_v4(rng).into(),
            (false, true) => fixtures::RELAY_V4.into(),
            (true, false) => fixtures::outside_v6(rng).into(),
            (true, true) => fixtures::RELAY_V6.into(),
        };
        // Small frames are connection attempts (a bare SYN fits 60 bytes);
        // larger ones are data segments of a session (e.g. one open before a swap).
        let l4 = if target <= 60 {
            L4::tcp(client_port, 25, frame::TCP_SYN)
        } else {
            let mut t = L4::tcp(client_port, 25, frame::TCP_ACK | frame::TCP_PSH);
            if let L4::Tcp { seq, ack, .. } = &mut t {
                *seq = rng.next_u32();
                *ack = rng.next_u32();
            }
            t
        };
        let kind = if enforced && !relay {
            Kind::Blocked
        } else {
            Kind::Port25Passing
        };
        (src, dst, l4, kind)
    } else {
        let src = subscriber(spec, rng, v6, None);
        let dst: IpAddr = if v6 {
            fixtures::outside_v6(rng).into()
        } else {
            fixtures::outside_v4(rng).into()
        };
        let l4 = match rng.below(100) {
            0..=69 => {
                let port = *rng.pick(&[443u16, 443, 443, 80]);
                let mut t = L4::tcp(client_port, port, frame::TCP_ACK);
                if let L4::Tcp { seq, ack, .. } = &mut t {
                    *seq = rng.next_u32();
                    *ack = rng.next_u32();
                }
                t
            }
            70..=94 => L4::Udp {
                sport: client_port,
                dport: 443, // QUIC
                payload: Vec::new(),
            },
            _ => L4::tcp(client_port, *rng.pick(&[587u16, 465]), frame::TCP_ACK),
        };
        (src, dst, l4, Kind::Other)
    };
    let l3 = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => L3::v4(s, d),
        (IpAddr::V6(s), IpAddr::V6(d)) => L3::v6(s, d),
        _ => unreachable!("source and destination are drawn for the same family"),
    };
    (sized(&l2, &l3, l4, target), kind)
}

/// `n` frames of the mix from `seed`, with what each is.
pub fn frames(spec: &MixSpec, seed: u64, n: usize) -> Vec<(Vec<u8>, Kind)> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| frame(spec, &mut rng)).collect()
}

/// Summary of a generated mix, for the results and the tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MixStats {
    pub frames: usize,
    pub mean_bytes: f64,
    pub v6: usize,
    pub port25: usize,
    pub blocked: usize,
}

pub fn stats(frames: &[(Vec<u8>, Kind)]) -> MixStats {
    let n = frames.len();
    let bytes: usize = frames.iter().map(|f| f.0.len()).sum();
    let is_v6 = |f: &[u8]| {
        // Walk the L2 headers the generator emits.
        let mut o = 12;
        loop {
            match u16::from_be_bytes([f[o], f[o + 1]]) {
                frame::ETH_VLAN | frame::ETH_QINQ | frame::ETH_QINQ_OLD => o += 4,
                frame::ETH_PPPOE_SESS => {
                    return u16::from_be_bytes([f[o + 8], f[o + 9]]) == frame::PPP_IPV6
                }
                t => return t == frame::ETH_IPV6,
            }
        }
    };
    MixStats {
        frames: n,
        mean_bytes: if n == 0 { 0.0 } else { bytes as f64 / n as f64 },
        v6: frames.iter().filter(|f| is_v6(&f.0)).count(),
        port25: frames.iter().filter(|f| f.1 != Kind::Other).count(),
        blocked: frames.iter().filter(|f| f.1 == Kind::Blocked).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use classify::{classify_one, Direction, Verdict};

    fn tables(spec: &MixSpec) -> policy::Tables {
        policy::load_str("bench.yaml", spec.config_yaml().as_bytes())
            .expect("the synthetic config is valid")
            .tables
    }

    #[test]
    fn mix_is_deterministic_for_a_seed() {
        let spec = MixSpec::isp(Sizes::Imix, 1000);
        assert_eq!(frames(&spec, 7, 500), frames(&spec, 7, 500));
        assert_ne!(frames(&spec, 7, 500), frames(&spec, 8, 500));
    }

    #[test]
    fn min64_frames_are_as_small_as_their_headers_allow() {
        let spec = MixSpec::isp(Sizes::Min64, 1000);
        let f = frames(&spec, 1, 4000);
        assert!(f
            .iter()
            .all(|(b, _)| b.len() >= 60 && b.len() <= 60 + 8 + 8 + 40));
        let at_60 = f.iter().filter(|(b, _)| b.len() == 60).count();
        assert!(at_60 > 4000 / 2, "{at_60} of 4000 frames at 60 bytes");
    }

    #[test]
    fn imix_has_the_7_4_1_classes() {
        let spec = MixSpec::isp(Sizes::Imix, 1000);
        let f = frames(&spec, 2, 12_000);
        let count = |len: usize| f.iter().filter(|(b, _)| b.len() == len).count() as f64;
        let (s, m, l) = (count(60), count(594), count(1514));
        // The 594 and 1514 classes are exact; small frames with long headers exceed 60.
        assert!((m / 12_000.0 - 4.0 / 12.0).abs() < 0.02, "594: {m}");
        assert!((l / 12_000.0 - 1.0 / 12.0).abs() < 0.01, "1514: {l}");
        let small = f.iter().filter(|(b, _)| b.len() < 594).count() as f64;
        assert!(
            (small / 12_000.0 - 7.0 / 12.0).abs() < 0.02,
            "small: {small}"
        );
        assert!(s / 12_000.0 > 0.25, "60: {s}");
        let st = stats(&f);
        assert!(
            (st.mean_bytes - 359.2).abs() < 15.0,
            "mean {}",
            st.mean_bytes
        );
    }

    #[test]
    fn shares_follow_the_spec() {
        let spec = MixSpec::isp(Sizes::Min64, 10_000);
        let f = frames(&spec, 3, 20_000);
        let st = stats(&f);
        let v6 = st.v6 as f64 / 20_000.0;
        assert!((v6 - 0.30).abs() < 0.02, "v6 share {v6}");
        let p25 = st.port25 as f64 / 20_000.0;
        assert!((p25 - 0.03).abs() < 0.006, "port-25 share {p25}");
        let blocked = st.blocked as f64 / st.port25 as f64;
        assert!(
            (blocked - 0.85 * 0.95).abs() < 0.06,
            "blocked share {blocked}"
        );
        let outer: std::collections::BTreeSet<u16> = f
            .iter()
            .map(|(b, _)| u16::from_be_bytes([b[12], b[13]]))
            .collect();
        for t in [
            frame::ETH_IPV4,
            frame::ETH_IPV6,
            frame::ETH_VLAN,
            frame::ETH_QINQ,
            frame::ETH_PPPOE_SESS,
        ] {
            assert!(outer.contains(&t), "ethertype {t:#06x} missing");
        }
    }

    /// The generator's idea of "blocked" agrees with the classifier under the
    /// config the mix is made for, frame by frame.
    #[test]
    fn blocked_frames_are_exactly_those_the_config_blocks() {
        for sizes in [Sizes::Min64, Sizes::Imix] {
            let spec = MixSpec::isp(sizes, 5_000);
            let t = tables(&spec);
            let f = frames(&spec, 4, 6_000);
            let mut blocked = 0;
            for (i, (bytes, kind)) in f.iter().enumerate() {
                let v = classify_one(&t, Direction::Outbound, bytes);
                let is_blocked = matches!(v, Verdict::Reply { .. } | Verdict::Drop(_));
                assert_eq!(
                    is_blocked,
                    *kind == Kind::Blocked,
                    "frame {i} ({kind:?}) got {v:?}"
                );
                if !is_blocked {
                    assert!(v.is_forwarded(), "frame {i} ({kind:?}) got {v:?}");
                }
                blocked += usize::from(is_blocked);
            }
            assert!(blocked > 60, "{} blocked of 6000", blocked);
        }
    }

    #[test]
    fn tiny_configs_still_give_both_pool_kinds_when_possible() {
        // 10 prefixes: 8 IPv4 /30s and 2 IPv6 /56s in 10 pools (one exempt, one monitored).
        let spec = MixSpec::isp(Sizes::Min64, 10);
        assert_eq!(spec.prefixes(), 10);
        let t = tables(&spec);
        let f = frames(&spec, 5, 3_000);
        for (bytes, kind) in &f {
            let v = classify_one(&t, Direction::Outbound, bytes);
            assert_eq!(
                matches!(v, Verdict::Reply { .. } | Verdict::Drop(_)),
                *kind == Kind::Blocked
            );
        }
    }
}
