//! The verdict model: DESIGN.md rules 2-5 and the inbound rule, on the design's example.

use policy::{load_str, Action, Decision, Direction, Reason, ScopeMatch, Tables};
use std::net::IpAddr;

const EXAMPLE: &str = include_str!("../../../configs/example.yaml");

fn tables(yaml: &str) -> Tables {
    load_str("t.yaml", yaml.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .tables
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn out(t: &Tables, src: &str, dst: &str, dport: u16) -> Decision {
    t.decide(Direction::Outbound, ip(src), 49152, ip(dst), dport)
}

fn inb(t: &Tables, src: &str, sport: u16, dst: &str) -> Decision {
    t.decide(Direction::Inbound, ip(src), sport, ip(dst), 49152)
}

fn pool(t: &Tables, name: &str) -> u16 {
    t.pools().iter().position(|p| p.name == name).unwrap() as u16
}

#[test]
fn rule_2_ports_not_blocked_are_forwarded() {
    let t = tables(EXAMPLE);
    for port in [587, 465, 80, 24, 26] {
        assert_eq!(
            out(&t, "198.51.100.7", "192.0.2.10", port),
            Decision::Forward(Reason::PortNotBlocked)
        );
    }
}

#[test]
fn rule_3_sources_in_no_pool_are_forwarded() {
    let t = tables(EXAMPLE);
    assert_eq!(
        out(&t, "203.0.113.7", "192.0.2.10", 25),
        Decision::Forward(Reason::NoPool)
    );
    assert_eq!(
        out(&t, "2001:db8:200::1", "192.0.2.10", 25),
        Decision::Forward(Reason::NoPool)
    );
}

#[test]
fn rule_3_longest_prefix_wins_so_a_nested_exempt_pool_is_exempt() {
    let t = tables(EXAMPLE);
    let fixed = pool(&t, "fixed-ip");
    for src in ["198.51.100.200", "198.51.100.207"] {
        assert_eq!(
            out(&t, src, "192.0.2.10", 25),
            Decision::Forward(Reason::ExemptPool { pool: fixed })
        );
    }
    // Just outside the /29: back in the enforced /24.
    assert!(matches!(
        out(&t, "198.51.100.208", "192.0.2.10", 25),
        Decision::Block { .. }
    ));
}

#[test]
fn rule_4_relays_are_forwarded_for_both_families() {
    let t = tables(EXAMPLE);
    assert_eq!(
        out(&t, "198.51.100.7", "203.0.113.25", 25),
        Decision::Forward(Reason::Relay)
    );
    assert_eq!(
        out(&t, "2001:db8:100::7", "2001:db8:ff::25", 25),
        Decision::Forward(Reason::Relay)
    );
}

#[test]
fn rule_4_destinations_outside_the_scope_are_forwarded() {
    let t = tables(EXAMPLE);
    assert_eq!(
        out(&t, "198.51.100.7", "203.0.113.26", 25),
        Decision::Forward(Reason::OutOfScope)
    );
    // The scope has no IPv6 entry: every IPv6 destination is outside it.
    assert_eq!(
        out(&t, "2001:db8:100::7", "2001:db8:ee::25", 25),
        Decision::Forward(Reason::OutOfScope)
    );
}

#[test]
fn rule_5_enforce_blocks_with_the_pools_action() {
    let t = tables(EXAMPLE);
    assert_eq!(
        out(&t, "198.51.100.7", "192.0.2.10", 25),
        Decision::Block {
            pool: pool(&t, "ftth-dynamic"),
            action: Action::Rst
        }
    );
    assert_eq!(
        out(&t, "100.64.1.2", "192.0.2.10", 25),
        Decision::Block {
            pool: pool(&t, "mobile"),
            action: Action::Drop
        }
    );
}

#[test]
fn rule_5_monitor_forwards_and_reports_the_pool() {
    let t = tables(&EXAMPLE.replace(
        "  - name: ftth-dynamic\n    mode: enforce",
        "  - name: ftth-dynamic\n    mode: monitor",
    ));
    assert_eq!(
        out(&t, "198.51.100.7", "192.0.2.10", 25),
        Decision::Monitor {
            pool: pool(&t, "ftth-dynamic")
        }
    );
}

#[test]
fn without_scope_blocking_applies_everywhere() {
    let t = tables(&EXAMPLE.replace(
        "scope:\n  - name: mobile-carriers\n    prefixes: [192.0.2.0/24]\n",
        "",
    ));
    assert!(!t.has_scope());
    assert!(matches!(
        out(&t, "198.51.100.7", "203.0.113.26", 25),
        Decision::Block { .. }
    ));
    assert!(matches!(
        out(&t, "2001:db8:100::7", "2001:db8:ee::25", 25),
        Decision::Block { .. }
    ));
}

#[test]
fn other_blocked_ports_are_under_the_policy_too() {
    let t = tables(&EXAMPLE.replace("blocked_ports: [25]", "blocked_ports: [25, 2525]"));
    assert!(matches!(
        out(&t, "198.51.100.7", "192.0.2.10", 2525),
        Decision::Block { .. }
    ));
}

#[test]
fn inbound_rule_blocks_non_relay_sources_from_blocked_ports() {
    let t = tables(EXAMPLE);
    assert_eq!(
        inb(&t, "192.0.2.10", 25, "198.51.100.7"),
        Decision::Block {
            pool: pool(&t, "ftth-dynamic"),
            action: Action::Rst
        }
    );
    // From a relay, from a port not blocked, toward an exempt or unknown host, or from
    // outside the scope: forwarded.
    assert_eq!(
        inb(&t, "203.0.113.25", 25, "198.51.100.7"),
        Decision::Forward(Reason::Relay)
    );
    assert_eq!(
        inb(&t, "192.0.2.10", 443, "198.51.100.7"),
        Decision::Forward(Reason::PortNotBlocked)
    );
    assert_eq!(
        inb(&t, "192.0.2.10", 25, "198.51.100.201"),
        Decision::Forward(Reason::ExemptPool {
            pool: pool(&t, "fixed-ip")
        })
    );
    assert_eq!(
        inb(&t, "192.0.2.10", 25, "203.0.113.9"),
        Decision::Forward(Reason::NoPool)
    );
    assert_eq!(
        inb(&t, "203.0.113.9", 25, "198.51.100.7"),
        Decision::Forward(Reason::OutOfScope)
    );
}

#[test]
fn inbound_is_forwarded_when_the_rule_is_disabled() {
    let t = tables(&EXAMPLE.replace("enabled: true", "enabled: false"));
    assert_eq!(
        inb(&t, "192.0.2.10", 25, "198.51.100.7"),
        Decision::Forward(Reason::InboundDisabled)
    );
}

#[test]
fn explain_names_the_pool_prefix_relay_and_scope() {
    let t = tables(EXAMPLE);
    let e = t.explain(
        Direction::Outbound,
        ip("198.51.100.203"),
        49152,
        ip("192.0.2.10"),
        25,
    );
    let p = e.pool.as_ref().unwrap();
    assert_eq!(p.name, "fixed-ip");
    assert_eq!(p.prefix.unwrap().to_string(), "198.51.100.200/29");
    assert!(e.relay.is_none());
    assert!(matches!(&e.scope, ScopeMatch::Inside(m) if m.name == "mobile-carriers"));
    assert_eq!(
        e.decision,
        Decision::Forward(Reason::ExemptPool { pool: p.id })
    );
    let text = e.to_string();
    assert!(text.starts_with("verdict: FORWARD\n"), "{text}");
    assert!(
        text.contains("is in pool `fixed-ip` by prefix 198.51.100.200/29"),
        "{text}"
    );

    let e = t.explain(
        Direction::Outbound,
        ip("198.51.100.7"),
        49152,
        ip("2001:db8:ff::25"),
        25,
    );
    assert_eq!(e.relay.as_ref().unwrap().name, "own-relay");
    assert_eq!(
        e.relay.as_ref().unwrap().prefix.to_string(),
        "2001:db8:ff::25/128"
    );
}

#[test]
fn explain_text_for_a_block_walks_every_rule() {
    let t = tables(EXAMPLE);
    let text = t
        .explain(
            Direction::Outbound,
            ip("198.51.100.7"),
            49152,
            ip("192.0.2.10"),
            25,
        )
        .to_string();
    assert_eq!(
        text,
        "verdict: BLOCK (rst: connection refused (TCP reset))
packet:  TCP 198.51.100.7 port 49152 -> 192.0.2.10 port 25, outbound (from the access side)
rule 2:  destination port 25 is in blocked_ports [25]
rule 3:  subscriber 198.51.100.7 is in pool `ftth-dynamic` by prefix 198.51.100.0/24 (mode enforce, action rst)
rule 4:  192.0.2.10 is not an allowed relay
rule 4:  192.0.2.10 is in scope `mobile-carriers` (prefix 192.0.2.0/24)
rule 5:  pool `ftth-dynamic` is enforced: action rst (connection refused (TCP reset))
"
    );
}

#[test]
fn hash_identifies_the_policy_not_the_formatting() {
    let a = tables(EXAMPLE);
    // Comments, key order, flow vs block style and prefix order do not change the hash.
    let b = tables(
        "pools:
  - name: ftth-dynamic
    prefixes: [\"2001:db8:100::/40\", 198.51.100.0/24]
    mode: enforce
  - {name: fixed-ip, mode: exempt, prefixes: [198.51.100.200/29]}
  - {name: mobile, mode: enforce, action: drop, prefixes: [100.64.0.0/10]}
version: 1
relays: [{name: own-relay, prefixes: [\"2001:db8:ff::25/128\", 203.0.113.25/32]}]
scope: [{name: mobile-carriers, prefixes: [192.0.2.0/24]}]
inbound: {enabled: true}
",
    );
    assert_eq!(a.hash(), b.hash());
    // Any change in meaning does.
    for (from, to) in [
        ("rate_per_sec: 20000", "rate_per_sec: 20001"),
        ("enabled: true", "enabled: false"),
        ("action: drop", "action: icmp"),
        ("[192.0.2.0/24]", "[192.0.2.0/25]"),
        ("name: own-relay", "name: own-relay2"),
        ("default_action: rst", "default_action: icmp"),
    ] {
        assert_ne!(
            a.hash(),
            tables(&EXAMPLE.replace(from, to)).hash(),
            "{from}"
        );
    }
}

#[test]
fn pool_ids_follow_config_order_and_effective_actions_apply_the_default() {
    let t = tables(&EXAMPLE.replace("default_action: rst", "default_action: icmp"));
    let names: Vec<&str> = t.pools().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ftth-dynamic", "fixed-ip", "mobile"]);
    assert_eq!(t.pool(0).action, Action::Icmp);
    assert_eq!(t.pool(2).action, Action::Drop);
    assert_eq!(
        t.lookup_src_v4(u32::from(
            "100.127.255.255".parse::<std::net::Ipv4Addr>().unwrap()
        )),
        Some(2)
    );
    assert_eq!(
        t.lookup_src_v6(u128::from(
            "2001:db8:1ff:ffff::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
        )),
        Some(0)
    );
}
