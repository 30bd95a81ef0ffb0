//! One test per validation rule, pinning the exact message and position.

use policy::{load_str, ConfigError};

/// A minimal valid config; tests append or replace lines.
const BASE: &str = "version: 1
pools:
  - name: dyn
    mode: enforce
    prefixes: [198.51.100.0/24]
";

fn errors(yaml: &str) -> Vec<String> {
    errors_bytes(yaml.as_bytes())
}

fn errors_bytes(yaml: &[u8]) -> Vec<String> {
    match load_str("t.yaml", yaml) {
        Ok(_) => panic!("config was accepted:\n{}", String::from_utf8_lossy(yaml)),
        Err(e) => e.iter().map(ConfigError::to_string).collect(),
    }
}

fn warnings(yaml: &str) -> Vec<String> {
    match load_str("t.yaml", yaml.as_bytes()) {
        Ok(l) => l.warnings.iter().map(ConfigError::to_string).collect(),
        Err(e) => panic!("config was rejected:\n{e}"),
    }
}

fn accepted(yaml: &str) -> policy::Loaded {
    load_str("t.yaml", yaml.as_bytes()).unwrap_or_else(|e| panic!("rejected:\n{e}"))
}

fn one(yaml: &str, want: &str) {
    assert_eq!(errors(yaml), vec![want.to_string()], "for:\n{yaml}");
}

// ---- the file itself -------------------------------------------------------------

#[test]
fn empty_file_is_rejected() {
    let want = "t.yaml:1:1: the file is empty: expected a YAML mapping with at least `version` and `pools`";
    one("", want);
    one("  \n\n", want);
}

#[test]
fn file_with_only_comments_is_rejected_as_empty() {
    one(
        "# nothing yet\n",
        "t.yaml:1:1: the file is empty: expected a YAML mapping with at least `version` and `pools` (it has only comments or null)",
    );
    one(
        "---\n",
        "t.yaml:1:1: the file is empty: expected a YAML mapping with at least `version` and `pools` (it has only comments or null)",
    );
}

#[test]
fn non_utf8_is_rejected_with_the_position_of_the_bad_byte() {
    assert_eq!(
        errors_bytes(b"version: 1\npools: \xff\n"),
        vec!["t.yaml:2:8: the file is not valid UTF-8 (byte 0xFF); op25b configs are UTF-8 text"]
    );
    // Columns count characters, not bytes.
    assert_eq!(
        errors_bytes(&[b"# \xc3\xa9\n# \xc3\xa9\xc3\xa9".as_slice(), &[0xc3]].concat())
            .first()
            .map(String::as_str),
        Some("t.yaml:2:5: the file is not valid UTF-8 (byte 0xC3); op25b configs are UTF-8 text")
    );
}

#[test]
fn utf8_byte_order_mark_is_accepted() {
    accepted(&format!("\u{feff}{BASE}"));
}

#[test]
fn tab_indentation_is_a_syntax_error_with_position_and_hint() {
    one(
        "version: 1\npools:\n\t- name: x\n",
        "t.yaml:3:1: found character that cannot start any token, while scanning for the next token (a tab: YAML does not allow tabs for indentation; use spaces)",
    );
}

#[test]
fn unterminated_flow_list_is_a_syntax_error() {
    one(
        "version: 1\npools: [\n",
        "t.yaml:3:1: did not find expected node content, while parsing a flow node",
    );
}

#[test]
fn a_second_document_is_rejected() {
    one(
        &format!("{BASE}---\nversion: 1\n"),
        "t.yaml:6:1: a config file holds exactly one YAML document; found a second one",
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    one(
        "- version: 1\n",
        "t.yaml:1:1: expected a mapping with `version`, `pools` and optional settings, found a list",
    );
}

// ---- keys ------------------------------------------------------------------------

#[test]
fn unknown_top_level_key_is_rejected_with_a_suggestion() {
    one(
        &format!("{BASE}relay: []\n"),
        "t.yaml:6:1: relay: unknown key `relay` (did you mean `relays`?); expected one of: version, blocked_ports, default_action, pools, relays, scope, inbound, reply",
    );
}

#[test]
fn unknown_pool_key_is_rejected() {
    one(
        &BASE.replace("    mode: enforce\n", "    mode: enforce\n    comment: x\n"),
        "t.yaml:5:5: pools[0].comment: unknown key `comment`; expected one of: name, mode, action, prefixes",
    );
}

#[test]
fn duplicate_key_is_rejected_at_the_second_occurrence() {
    one(
        &BASE.replace(
            "    mode: enforce\n",
            "    mode: enforce\n    mode: monitor\n",
        ),
        "t.yaml:5:5: pools[0].mode: duplicate key `mode` (first at line 4)",
    );
}

#[test]
fn merge_keys_are_rejected() {
    // The merge is not applied, so `mode` is missing as well.
    assert_eq!(
        errors(&BASE.replace("    mode: enforce\n", "    <<: {mode: enforce}\n")),
        vec![
            "t.yaml:3:5: pools[0]: missing key `mode` (enforce, monitor or exempt)",
            "t.yaml:4:5: pools[0].<<: merge keys (`<<`) are not supported: write the keys out in full",
        ]
    );
}

#[test]
fn tags_are_rejected() {
    one(
        &BASE.replace("version: 1", "version: !!int 1"),
        "t.yaml:1:16: version: YAML tags (`!!int`) are not supported in op25b configs",
    );
}

#[test]
fn anchors_and_aliases_expand_and_errors_point_at_the_alias() {
    let yaml = "version: 1
pools:
  - name: a
    mode: enforce
    prefixes: &nets [198.51.100.0/25]
  - name: b
    mode: enforce
    prefixes: *nets
";
    assert_eq!(
        errors(yaml),
        vec!["t.yaml:8:15: pools[1].prefixes[0]: prefix 198.51.100.0/25 is already in pool `a` (pools[0].prefixes[0], line 5); a prefix may belong to one pool only"]
    );
    // A legitimate use: the same relay list reused as the scope.
    accepted(&format!(
        "{BASE}relays:\n  - &r {{name: own, prefixes: [203.0.113.25/32]}}\nscope:\n  - *r\n"
    ));
}

#[test]
fn alias_bombs_are_refused() {
    let mut yaml = format!("{BASE}x0: &a0 [y, y, y, y, y, y, y, y, y, y]\n");
    for i in 1..8 {
        let p = format!("*a{}", i - 1);
        yaml.push_str(&format!("x{i}: &a{i} [{}]\n", [p.as_str(); 10].join(", ")));
    }
    let errs = errors(&yaml);
    // x5 (line 11) is where the expansion crosses the limit.
    assert_eq!(
        errs,
        vec!["t.yaml:11:45: aliases expand to more than 1000000 nodes; refusing to expand"]
    );
}

#[test]
fn missing_required_keys_are_reported_at_their_mapping() {
    one(
        "pools:\n  - {name: a, mode: enforce, prefixes: [198.51.100.0/24]}\n",
        "t.yaml:1:1: missing key `version` (write `version: 1`)",
    );
    one(
        "version: 1\n",
        "t.yaml:1:1: missing key `pools` (the subscriber source prefixes)",
    );
    assert_eq!(
        errors("version: 1\npools:\n  - prefixes: [198.51.100.0/24]\n"),
        vec![
            "t.yaml:3:5: pools[0]: missing key `name`",
            "t.yaml:3:5: pools[0]: missing key `mode` (enforce, monitor or exempt)",
        ]
    );
    one(
        "version: 1\npools:\n  - {name: a, mode: enforce}\n",
        "t.yaml:3:5: pools[0]: missing key `prefixes`",
    );
    one(
        &format!("{BASE}relays:\n  - name: r\n"),
        "t.yaml:7:5: relays[0]: missing key `prefixes`",
    );
}

// ---- version ---------------------------------------------------------------------

#[test]
fn version_other_than_1_is_rejected() {
    one(
        &BASE.replace("version: 1", "version: 2"),
        "t.yaml:1:10: version: unsupported version 2: this op25b reads version 1",
    );
}

#[test]
fn version_must_be_an_integer() {
    one(
        &BASE.replace("version: 1", "version: \"1\""),
        "t.yaml:1:10: version: expected the format version (an integer), found a string (`1`)",
    );
    one(
        &BASE.replace("version: 1", "version: 1.0"),
        "t.yaml:1:10: version: expected the format version (an integer), found a number (1.0)",
    );
    one(
        &BASE.replace("version: 1", "version: 99999999999999999999999999999999999999999"),
        "t.yaml:1:10: version: an integer (99999999999999999999999999999999999999999) is out of range",
    );
}

// ---- blocked_ports ---------------------------------------------------------------

#[test]
fn blocked_ports_empty_is_rejected() {
    one(
        &format!("{BASE}blocked_ports: []\n"),
        "t.yaml:6:16: blocked_ports: blocked_ports is empty: list at least one port, or remove the key for the default [25]; to stop blocking, set the pools to `monitor` or `exempt`",
    );
}

#[test]
fn blocked_ports_outside_1_to_65535_are_rejected() {
    assert_eq!(
        errors(&format!("{BASE}blocked_ports: [0, 65536, -1]\n")),
        vec![
            "t.yaml:6:17: blocked_ports[0]: port 0 is outside 1..65535",
            "t.yaml:6:20: blocked_ports[1]: port 65536 is outside 1..65535",
            "t.yaml:6:27: blocked_ports[2]: port -1 is outside 1..65535",
        ]
    );
}

#[test]
fn port_587_is_rejected_citing_rfc_5068() {
    one(
        &format!("{BASE}blocked_ports: [25, 587]\n"),
        "t.yaml:6:21: blocked_ports[1]: port 587 (mail submission) must never be blocked: RFC 5068 says access providers MUST NOT block it",
    );
}

#[test]
fn port_465_is_rejected_citing_rfc_8314() {
    one(
        &format!("{BASE}blocked_ports: [465]\n"),
        "t.yaml:6:17: blocked_ports[0]: port 465 (submission over implicit TLS) must never be blocked: RFC 8314 makes it the submission port for implicit TLS",
    );
}

#[test]
fn duplicate_blocked_port_is_rejected_at_the_second_occurrence() {
    one(
        &format!("{BASE}blocked_ports:\n  - 25\n  - 2525\n  - 25\n"),
        "t.yaml:9:5: blocked_ports[2]: duplicate port 25 (first at line 7)",
    );
}

#[test]
fn blocked_ports_must_be_a_list_of_integers() {
    one(
        &format!("{BASE}blocked_ports: 25\n"),
        "t.yaml:6:16: blocked_ports: expected a list of TCP ports, found an integer (25)",
    );
    // Leading zeros make a string in YAML 1.2 as serde_yaml reads it (not octal 025).
    one(
        &format!("{BASE}blocked_ports: [025]\n"),
        "t.yaml:6:17: blocked_ports[0]: expected a TCP port number (1..65535), found a string (`025`)",
    );
    one(
        &format!("{BASE}blocked_ports: [smtp]\n"),
        "t.yaml:6:17: blocked_ports[0]: expected a TCP port number (1..65535), found a string (`smtp`)",
    );
}

// ---- actions and modes -----------------------------------------------------------

#[test]
fn unknown_default_action_is_rejected() {
    one(
        &format!("{BASE}default_action: reject\n"),
        "t.yaml:6:17: default_action: unknown action `reject`; expected rst, icmp or drop",
    );
}

#[test]
fn unknown_pool_action_is_rejected_with_a_suggestion() {
    one(
        &BASE.replace("    mode: enforce\n", "    mode: enforce\n    action: dorp\n"),
        "t.yaml:5:13: pools[0].action: unknown action `dorp` (did you mean `drop`?); expected rst, icmp or drop",
    );
}

#[test]
fn unknown_mode_is_rejected() {
    one(
        &BASE.replace("mode: enforce", "mode: block"),
        "t.yaml:4:11: pools[0].mode: unknown mode `block`; expected enforce, monitor or exempt",
    );
    one(
        &BASE.replace("mode: enforce", "mode: Enforce"),
        "t.yaml:4:11: pools[0].mode: unknown mode `Enforce` (write it in lowercase); expected enforce, monitor or exempt",
    );
    one(
        &BASE.replace("mode: enforce", "mode:"),
        "t.yaml:4:5: pools[0].mode: expected mode (enforce, monitor or exempt), found nothing (null)",
    );
}

// ---- names -----------------------------------------------------------------------

#[test]
fn empty_name_is_rejected() {
    one(
        &BASE.replace("name: dyn", "name: \"\""),
        "t.yaml:3:11: pools[0].name: name is empty",
    );
    one(
        &BASE.replace("name: dyn", "name:"),
        "t.yaml:3:5: pools[0].name: expected a name, found nothing (null)",
    );
}

#[test]
fn names_with_other_characters_are_rejected() {
    one(
        &BASE.replace("name: dyn", "name: \"ftth dynamic\""),
        "t.yaml:3:11: pools[0].name: name `ftth dynamic` may contain only letters, digits, `-`, `_` and `.`",
    );
}

#[test]
fn overlong_names_are_rejected() {
    let long = "p".repeat(65);
    one(
        &BASE.replace("name: dyn", &format!("name: {long}")),
        &format!("t.yaml:3:11: pools[0].name: name `{long}...` is longer than 64 characters")
            .replace(&format!("`{long}...`"), &format!("`{}...`", &long[..60])),
    );
}

#[test]
fn duplicate_pool_name_is_rejected_at_the_second_occurrence() {
    one(
        &format!("{BASE}  - name: dyn\n    mode: monitor\n    prefixes: [203.0.113.0/24]\n"),
        "t.yaml:6:11: pools[1].name: duplicate pool name `dyn` (first at pools[0], line 3)",
    );
}

#[test]
fn duplicate_relay_name_is_rejected() {
    one(
        &format!(
            "{BASE}relays:\n  - {{name: r, prefixes: [203.0.113.25/32]}}\n  - {{name: r, prefixes: [203.0.113.26/32]}}\n"
        ),
        "t.yaml:8:12: relays[1].name: duplicate relays name `r` (first at relays[0], line 7)",
    );
}

#[test]
fn pool_and_relay_may_share_a_name() {
    accepted(&format!(
        "{BASE}relays:\n  - {{name: dyn, prefixes: [203.0.113.25/32]}}\n"
    ));
}

// ---- pools and prefixes ----------------------------------------------------------

#[test]
fn empty_pool_list_is_rejected() {
    one(
        "version: 1\npools: []\n",
        "t.yaml:2:8: pools: no pools: at least one pool is required",
    );
}

#[test]
fn pools_must_be_a_list_of_mappings() {
    one(
        "version: 1\npools: {name: a}\n",
        "t.yaml:2:8: pools: expected a list of pools, found a mapping",
    );
    one(
        "version: 1\npools:\n  - ftth\n",
        "t.yaml:3:5: pools[0]: expected a pool (a mapping), found a string (`ftth`)",
    );
}

#[test]
fn empty_prefix_list_is_rejected() {
    one(
        &BASE.replace("[198.51.100.0/24]", "[]"),
        "t.yaml:5:15: pools[0].prefixes: the prefix list is empty: list at least one prefix",
    );
}

#[test]
fn host_bits_are_rejected_with_the_designs_message() {
    one(
        &BASE.replace("198.51.100.0/24", "198.51.100.1/24"),
        "t.yaml:5:16: pools[0].prefixes[0]: host bits set in 198.51.100.1/24 (the network is 198.51.100.0/24)",
    );
    one(
        &BASE.replace("198.51.100.0/24", "\"2001:db8:100::1/40\""),
        "t.yaml:5:16: pools[0].prefixes[0]: host bits set in 2001:db8:100::1/40 (the network is 2001:db8:100::/40)",
    );
}

#[test]
fn malformed_prefixes_are_rejected() {
    one(
        &BASE.replace("198.51.100.0/24", "198.51.100.0/33"),
        "t.yaml:5:16: pools[0].prefixes[0]: malformed prefix `198.51.100.0/33`: the length must be 0..32 for IPv4",
    );
    one(
        &BASE.replace("198.51.100.0/24", "198.51.100/24"),
        "t.yaml:5:16: pools[0].prefixes[0]: malformed prefix `198.51.100/24`: `198.51.100` is not an IPv4 or IPv6 address",
    );
    one(
        &BASE.replace("198.51.100.0/24", "\"2001:db8::/129\""),
        "t.yaml:5:16: pools[0].prefixes[0]: malformed prefix `2001:db8::/129`: the length must be 0..128 for IPv6",
    );
    one(
        &BASE.replace("[198.51.100.0/24]", "[10]"),
        "t.yaml:5:16: pools[0].prefixes[0]: malformed prefix `10`: expected ADDRESS/LENGTH",
    );
    one(
        &BASE.replace("[198.51.100.0/24]", "[[198.51.100.0/24]]"),
        "t.yaml:5:16: pools[0].prefixes[0]: expected a prefix like 198.51.100.0/24, found a list",
    );
    one(
        &BASE.replace("[198.51.100.0/24]", "198.51.100.0/24"),
        "t.yaml:5:15: pools[0].prefixes: expected a list of prefixes, found a string (`198.51.100.0/24`)",
    );
}

#[test]
fn bare_address_without_length_is_rejected_with_a_fix() {
    one(
        &BASE.replace("198.51.100.0/24", "198.51.100.7"),
        "t.yaml:5:16: pools[0].prefixes[0]: missing prefix length in `198.51.100.7`: write 198.51.100.7/32 for one address",
    );
}

#[test]
fn same_prefix_twice_in_one_list_is_rejected_at_the_second() {
    one(
        "version: 1\npools:\n  - name: a\n    mode: enforce\n    prefixes:\n      - 198.51.100.0/24\n      - 203.0.113.0/24\n      - 198.51.100.0/24\n",
        "t.yaml:8:9: pools[0].prefixes[2]: duplicate prefix 198.51.100.0/24 in this list (first at line 6)",
    );
}

#[test]
fn same_prefix_in_two_pools_is_rejected_at_the_second() {
    one(
        &format!("{BASE}  - name: other\n    mode: exempt\n    prefixes: [203.0.113.0/24, 198.51.100.0/24]\n"),
        "t.yaml:8:32: pools[1].prefixes[1]: prefix 198.51.100.0/24 is already in pool `dyn` (pools[0].prefixes[0], line 5); a prefix may belong to one pool only",
    );
}

#[test]
fn ipv6_prefix_written_differently_is_still_the_same_prefix() {
    let yaml = "version: 1
pools:
  - {name: a, mode: enforce, prefixes: [\"2001:db8:100::/40\"]}
  - {name: b, mode: exempt, prefixes: [\"2001:DB8:100:0::/40\"]}
";
    one(
        yaml,
        "t.yaml:4:40: pools[1].prefixes[0]: prefix 2001:db8:100::/40 is already in pool `a` (pools[0].prefixes[0], line 3); a prefix may belong to one pool only",
    );
}

#[test]
fn nested_prefix_in_another_pool_is_fine_and_mixed_families_too() {
    let l = accepted(&format!(
        "{BASE}  - name: fixed\n    mode: exempt\n    prefixes: [198.51.100.200/29, \"2001:db8:100::/48\", 198.51.100.0/25]\n"
    ));
    assert_eq!(l.tables.pools().len(), 2);
    assert!(l.warnings.is_empty());
}

#[test]
fn too_many_pools_are_rejected() {
    let mut yaml = String::from("version: 1\npools:\n");
    for i in 0..65536u32 {
        let a = 0x6440_0000u32 + i * 4; // 100.64.0.0/10, one /30 per pool
        let ip = std::net::Ipv4Addr::from(a);
        yaml.push_str(&format!(
            "- {{name: p{i}, mode: enforce, prefixes: [{ip}/30]}}\n"
        ));
    }
    one(
        &yaml,
        "t.yaml:65538:3: pools[65535]: too many pools: at most 65535",
    );
}

// ---- relays and scope ------------------------------------------------------------

#[test]
fn relays_may_be_absent_or_empty() {
    assert_eq!(accepted(BASE).tables.relay_entries().count(), 0);
    assert_eq!(
        accepted(&format!("{BASE}relays: []\n"))
            .tables
            .relay_entries()
            .count(),
        0
    );
}

#[test]
fn null_relays_are_rejected_with_a_hint() {
    one(
        &format!("{BASE}relays:\n"),
        "t.yaml:6:1: relays: expected a list of relays, found nothing (null); write `relays: []` for no relay",
    );
}

#[test]
fn same_prefix_in_two_relay_entries_is_rejected() {
    one(
        &format!(
            "{BASE}relays:\n  - {{name: a, prefixes: [203.0.113.25/32]}}\n  - {{name: b, prefixes: [203.0.113.25/32]}}\n"
        ),
        "t.yaml:8:26: relays[1].prefixes[0]: prefix 203.0.113.25/32 is already listed in relays[0] `a` (line 7)",
    );
}

#[test]
fn empty_or_null_scope_is_rejected() {
    let want = "scope: scope is empty: remove `scope` to block toward every destination, or list the destinations";
    one(
        &format!("{BASE}scope: []\n"),
        &format!("t.yaml:6:8: {want}"),
    );
    one(&format!("{BASE}scope:\n"), &format!("t.yaml:6:1: {want}"));
}

#[test]
fn same_prefix_in_two_scope_entries_is_rejected() {
    one(
        &format!(
            "{BASE}scope:\n  - {{name: a, prefixes: [192.0.2.0/24]}}\n  - {{name: b, prefixes: [192.0.2.0/24]}}\n"
        ),
        "t.yaml:8:26: scope[1].prefixes[0]: prefix 192.0.2.0/24 is already listed in scope[0] `a` (line 7)",
    );
}

#[test]
fn a_relay_prefix_may_also_be_in_scope() {
    accepted(&format!(
        "{BASE}relays:\n  - {{name: r, prefixes: [192.0.2.25/32]}}\nscope:\n  - {{name: s, prefixes: [192.0.2.0/24]}}\n"
    ));
}

// ---- inbound and reply -----------------------------------------------------------

#[test]
fn inbound_enabled_must_be_a_boolean() {
    one(
        &format!("{BASE}inbound:\n  enabled: yes\n"),
        "t.yaml:7:12: inbound.enabled: expected true or false, found a string (`yes`) (YAML 1.2: write true or false)",
    );
    one(
        &format!("{BASE}inbound: true\n"),
        "t.yaml:6:10: inbound: expected a mapping (`enabled: true`), found a boolean (true)",
    );
    one(
        &format!("{BASE}inbound:\n  enable: true\n"),
        "t.yaml:7:3: inbound.enable: unknown key `enable` (did you mean `enabled`?); expected one of: enabled",
    );
}

#[test]
fn reply_rate_zero_is_rejected() {
    one(
        &format!("{BASE}reply:\n  rate_per_sec: 0\n"),
        "t.yaml:7:17: reply.rate_per_sec: rate_per_sec 0 would turn every reply into a drop; use `default_action: drop` for silent drops",
    );
}

#[test]
fn reply_rate_absurd_or_negative_is_rejected() {
    one(
        &format!("{BASE}reply:\n  rate_per_sec: 1000001\n"),
        "t.yaml:7:17: reply.rate_per_sec: rate_per_sec 1000001 is outside 1..1000000 (replies per second per worker)",
    );
    one(
        &format!("{BASE}reply:\n  rate_per_sec: -5\n"),
        "t.yaml:7:17: reply.rate_per_sec: rate_per_sec -5 is outside 1..1000000 (replies per second per worker)",
    );
    one(
        &format!("{BASE}reply:\n  rate_per_sec: fast\n"),
        "t.yaml:7:17: reply.rate_per_sec: expected replies per second (an integer), found a string (`fast`)",
    );
}

// ---- all at once -----------------------------------------------------------------

#[test]
fn every_error_in_a_file_is_reported_in_file_order() {
    let yaml = "version: 3
blocked_ports: [25, 587]
pools:
  - name: a
    mode: enforce
    prefixes: [198.51.100.1/24]
  - name: a
    mode: sometimes
    prefixes: []
reply: {rate_per_sec: 0}
bogus: 1
";
    assert_eq!(
        errors(yaml),
        vec![
            "t.yaml:1:10: version: unsupported version 3: this op25b reads version 1",
            "t.yaml:2:21: blocked_ports[1]: port 587 (mail submission) must never be blocked: RFC 5068 says access providers MUST NOT block it",
            "t.yaml:6:16: pools[0].prefixes[0]: host bits set in 198.51.100.1/24 (the network is 198.51.100.0/24)",
            "t.yaml:7:11: pools[1].name: duplicate pool name `a` (first at pools[0], line 4)",
            "t.yaml:8:11: pools[1].mode: unknown mode `sometimes`; expected enforce, monitor or exempt",
            "t.yaml:9:15: pools[1].prefixes: the prefix list is empty: list at least one prefix",
            "t.yaml:10:23: reply.rate_per_sec: rate_per_sec 0 would turn every reply into a drop; use `default_action: drop` for silent drops",
            "t.yaml:11:1: bogus: unknown key `bogus`; expected one of: version, blocked_ports, default_action, pools, relays, scope, inbound, reply",
        ]
    );
}

#[test]
fn errors_serialize_as_json_objects() {
    let err = load_str("t.yaml", b"version: 2\npools: []\n").unwrap_err();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(
        json[0],
        serde_json::json!({"file": "t.yaml", "line": 1, "column": 10, "path": "version",
            "message": "unsupported version 2: this op25b reads version 1"})
    );
}

#[test]
fn unreadable_file_is_one_error_without_position() {
    let err = policy::load_file(std::path::Path::new("/nonexistent/op25b.yaml")).unwrap_err();
    assert_eq!(err.len(), 1);
    let text = err.to_string();
    assert!(
        text.starts_with("/nonexistent/op25b.yaml: cannot read the file: "),
        "{text}"
    );
}

// ---- warnings --------------------------------------------------------------------

#[test]
fn action_on_an_exempt_pool_is_a_warning() {
    assert_eq!(
        warnings(&BASE.replace("mode: enforce", "mode: exempt\n    action: drop")),
        vec![
            "t.yaml:3:3: pools: every pool is exempt: this config blocks and monitors nothing",
            "t.yaml:5:13: pools[0].action: action has no effect: the pool is exempt and is never blocked",
        ]
    );
}

#[test]
fn default_route_relay_is_a_warning() {
    assert_eq!(
        warnings(&format!("{BASE}relays:\n  - {{name: any, prefixes: [0.0.0.0/0]}}\n")),
        vec!["t.yaml:7:28: relays[0].prefixes[0]: 0.0.0.0/0 makes every IPv4 destination a relay: nothing is blocked over IPv4"]
    );
}

#[test]
fn ipv4_mapped_ipv6_prefix_is_a_warning() {
    assert_eq!(
        warnings(&BASE.replace("[198.51.100.0/24]", "[\"::ffff:198.51.100.0/120\"]")),
        vec!["t.yaml:5:16: pools[0].prefixes[0]: ::ffff:198.51.100.0/120 is an IPv4-mapped IPv6 prefix and never matches: IPv4 packets are matched as IPv4 (write 198.51.100.0/24)"]
    );
}

#[test]
fn valid_config_has_no_warnings() {
    assert!(warnings(BASE).is_empty());
}

// ---- defaults --------------------------------------------------------------------

#[test]
fn defaults_follow_the_design() {
    let l = accepted(BASE);
    let t = &l.tables;
    assert_eq!(t.blocked_ports().iter().collect::<Vec<_>>(), vec![25]);
    assert_eq!(t.default_action(), policy::Action::Rst);
    assert_eq!(t.pool(0).action, policy::Action::Rst);
    assert!(!t.inbound_enabled());
    assert_eq!(t.reply_rate_per_sec(), 20_000);
    assert!(!t.has_scope());
    assert!(t.in_scope_v4(0) && t.in_scope_v6(0));
    assert_eq!(t.hash().len(), 64);
    assert_eq!(l.config.relays, vec![]);
    assert_eq!(l.config.scope, None);
}

#[test]
fn unquoted_ipv6_in_a_flow_list_is_read_as_a_prefix() {
    let l = accepted(&BASE.replace("[198.51.100.0/24]", "[2001:db8:100::/40]"));
    assert_eq!(
        l.config.pools[0].prefixes[0].to_string(),
        "2001:db8:100::/40"
    );
}
