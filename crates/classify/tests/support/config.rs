//! The test policy: one pool per mode and action, in both families.
#![allow(dead_code)]

pub const CONFIG: &str = r#"
version: 1
blocked_ports: [25]
default_action: rst
pools:
  - name: ftth-dynamic
    mode: enforce
    prefixes: [198.51.100.0/24, "2001:db8:100::/40"]
  - name: fixed-ip
    mode: exempt
    prefixes: [198.51.100.200/29, "2001:db8:1ff::/48"]
  - name: mobile
    mode: enforce
    action: drop
    prefixes: [100.64.0.0/10, 198.51.100.64/26, "2001:db8:200::/40"]
  - name: business
    mode: enforce
    action: icmp
    prefixes: [203.0.113.0/25, "2001:db8:300::/40"]
  - name: trial
    mode: monitor
    prefixes: [203.0.113.128/25, "2001:db8:400::/40"]
relays:
  - name: own-relay
    prefixes: [192.0.2.25/32, "2001:db8:ff::25/128"]
inbound:
  enabled: true
"#;

/// The same pools with a scope (only 192.0.2.0/25 and 2001:db8:2::/48) and no inbound rule.
pub const SCOPED_CONFIG: &str = r#"
version: 1
blocked_ports: [25, 2525]
pools:
  - name: ftth-dynamic
    mode: enforce
    prefixes: [198.51.100.0/24, "2001:db8:100::/40"]
  - name: trial
    mode: monitor
    prefixes: [203.0.113.128/25, "2001:db8:400::/40"]
relays:
  - name: own-relay
    prefixes: [192.0.2.25/32, "2001:db8:ff::25/128"]
scope:
  - name: mobile-carriers
    prefixes: [192.0.2.0/25, "2001:db8:2::/48"]
"#;

pub fn tables(yaml: &str) -> policy::Tables {
    match policy::load_str("test.yaml", yaml.as_bytes()) {
        Ok(loaded) => loaded.tables,
        Err(errors) => panic!("test config rejected: {errors}"),
    }
}

/// Pool ids by name, so tests do not depend on the order.
pub fn pool_id(tables: &policy::Tables, name: &str) -> policy::PoolId {
    tables
        .pools()
        .iter()
        .position(|p| p.name == name)
        .unwrap_or_else(|| panic!("no pool {name}")) as policy::PoolId
}
