//! Replays the in-tree cargo-fuzz corpus (`fuzz/corpus/config/`) through the
//! `config` fuzz target's property, so every regression input runs with
//! `cargo test`. `write_fuzz_corpus` (ignored) regenerates the seed files.

mod support;

use std::path::{Path, PathBuf};
use support::config_check::check_config;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus_dir() -> PathBuf {
    root().join("fuzz/corpus/config")
}

/// A minimal valid config the hand-written seeds vary.
const BASE: &str = "version: 1
pools:
  - name: dyn
    mode: enforce
    prefixes: [198.51.100.0/24]
";

/// Hand-written seeds: one per validation rule and YAML feature worth mutating.
fn handwritten() -> Vec<(&'static str, String)> {
    let with = |extra: &str| format!("{BASE}{extra}");
    vec![
        ("base", BASE.to_string()),
        ("every-key", with("blocked_ports: [25, 2525]\ndefault_action: icmp\nrelays:\n  - name: r\n    prefixes: [203.0.113.25/32, \"2001:db8:ff::25/128\"]\nscope:\n  - name: s\n    prefixes: [192.0.2.0/24, \"2001:db8:2::/48\"]\ninbound:\n  enabled: true\nreply:\n  rate_per_sec: 100\n")),
        ("monitor-exempt-nested", "version: 1\npools:\n  - name: a\n    mode: monitor\n    prefixes: [198.51.100.0/24, \"2001:db8:100::/40\"]\n  - name: b\n    mode: exempt\n    prefixes: [198.51.100.128/25, 198.51.100.200/29]\n  - name: c\n    mode: enforce\n    action: drop\n    prefixes: [\"2001:db8:100:1::/64\", 0.0.0.0/0]\n".to_string()),
        ("flow-style", "{version: 1, pools: [{name: d, mode: enforce, prefixes: [198.51.100.0/24]}], blocked_ports: [25]}\n".to_string()),
        ("block-lists", "version: 1\npools:\n  - name: d\n    mode: enforce\n    prefixes:\n      - 198.51.100.0/24\n      - \"2001:db8::/32\"\nrelays: []\n".to_string()),
        ("anchors-aliases", "version: 1\nx: &p [198.51.100.0/24]\npools:\n  - name: d\n    mode: enforce\n    prefixes: *p\n".to_string()),
        ("merge-key", "version: 1\npools:\n  - &d {name: d, mode: enforce, prefixes: [198.51.100.0/24]}\n  - <<: *d\n    name: e\n    prefixes: [192.0.2.0/24]\n".to_string()),
        ("bad-version", BASE.replace("version: 1", "version: 2")),
        ("version-string", BASE.replace("version: 1", "version: \"1\"")),
        ("host-bits", BASE.replace("198.51.100.0/24", "198.51.100.1/24")),
        ("prefix-too-long", BASE.replace("198.51.100.0/24", "198.51.100.0/33")),
        ("v6-host-bits", BASE.replace("198.51.100.0/24", "\"2001:db8::1/32\"")),
        ("mapped-v6", BASE.replace("198.51.100.0/24", "\"::ffff:198.51.100.0/120\"")),
        ("unknown-key", with("colour: blue\n")),
        ("unknown-pool-key", BASE.replace("    mode: enforce\n", "    mode: enforce\n    actoin: drop\n")),
        ("bad-mode", BASE.replace("enforce", "block")),
        ("bad-action", with("default_action: reject\n")),
        ("port-zero", with("blocked_ports: [0]\n")),
        ("port-too-big", with("blocked_ports: [65536]\n")),
        ("port-587", with("blocked_ports: [25, 587]\n")),
        ("port-leading-zero", with("blocked_ports: [025]\n")),
        ("empty-blocked-ports", with("blocked_ports: []\n")),
        ("duplicate-names", with("  - name: dyn\n    mode: monitor\n    prefixes: [192.0.2.0/24]\n")),
        ("same-prefix-two-pools", with("  - name: other\n    mode: monitor\n    prefixes: [198.51.100.0/24]\n")),
        ("empty-prefixes", BASE.replace("[198.51.100.0/24]", "[]")),
        ("empty-name", BASE.replace("name: dyn", "name: \"\"")),
        ("duplicate-key", with("version: 1\n")),
        ("rate-zero", with("reply:\n  rate_per_sec: 0\n")),
        ("rate-huge", with("reply:\n  rate_per_sec: 99999999999999999999\n")),
        ("inbound-not-bool", with("inbound:\n  enabled: yes\n")),
        ("tabs", BASE.replace("  - name", "\t- name")),
        ("bom-crlf", format!("\u{feff}{}", BASE.replace('\n', "\r\n"))),
        ("multi-document", format!("{BASE}---\n{BASE}")),
        ("tagged", BASE.replace("version: 1", "version: !!str 1")),
        ("null-pools", "version: 1\npools:\n".to_string()),
        ("comments-only", "# nothing\n".to_string()),
        ("scalar-root", "25\n".to_string()),
        ("deep-nesting", format!("version: 1\npools: {}{}\n", "[".repeat(64), "]".repeat(64))),
    ]
}

/// Every config in `configs/` and the fixtures' config, plus the hand-written seeds.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("configs"))
        .expect("configs/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(root().join("pcap-fixtures/verdicts.yaml"));
    files.sort();
    for f in files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("config");
        out.push((format!("file-{stem}"), std::fs::read(&f).expect("readable")));
    }
    for (name, text) in handwritten() {
        out.push((name.to_string(), text.into_bytes()));
    }
    out
}

fn replay(name: &str, bytes: &[u8]) {
    let result = std::panic::catch_unwind(|| check_config(bytes));
    assert!(
        result.is_ok(),
        "{name}:\n{}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
#[ignore = "writes fuzz/corpus/config; run when the seeds change"]
fn write_fuzz_corpus() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_seed_satisfies_the_fuzz_property() {
    for (name, bytes) in seeds() {
        replay(&name, &bytes);
    }
}

#[test]
fn the_seeds_include_accepted_and_rejected_configs() {
    let accepted = seeds()
        .iter()
        .filter(|(_, b)| policy::load_str("s.yaml", b).is_ok())
        .count();
    // A corpus of only rejections would never reach the table checks.
    assert!(accepted >= 8, "only {accepted} seeds are accepted");
    assert!(seeds().len() - accepted >= 20);
}

#[test]
fn the_in_tree_fuzz_corpus_replays_cleanly() {
    let dir = corpus_dir();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the fuzz corpus {}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        replay(&path.display().to_string(), &bytes);
        count += 1;
    }
    assert!(count >= seeds().len(), "corpus has only {count} files");
    assert!(Path::new(&dir).is_dir());
}

/// Fuzz finding: a control character inside a comment passed the span-aware
/// validation and was then rejected by the typed parse with no usable
/// position and a "please report this config" message.
#[test]
fn a_control_character_is_rejected_at_its_position() {
    for (yaml, line, column) in [
        ("# comment with a \u{1d} in it\nversion: 1\n", 1, 18),
        ("version: 1\npools:\n  - name: d\u{0}yn\n", 3, 12),
        ("version: 1 # \u{7f}\n", 1, 14),
    ] {
        let errors = policy::load_str("c.yaml", yaml.as_bytes()).expect_err("rejected");
        let e = &errors.errors()[0];
        assert_eq!((e.line, e.column), (line, column), "{e}");
        assert!(e.message.starts_with("control character U+00"), "{e}");
        assert!(!e.message.contains("YAML readers disagree"), "{e}");
    }
    // Tabs, CRLF, a BOM and non-ASCII text stay allowed.
    let fine = "\u{feff}version: 1\r\npools: # caf\u{e9} \u{1f600}\r\n  - name: d\r\n    mode: enforce\t# a tab\r\n    prefixes: [198.51.100.0/24]\r\n";
    if let Err(e) = policy::load_str("c.yaml", fine.as_bytes()) {
        panic!("{e}");
    }
}

/// Proptest finding (`robustness.rs`, mutated example): a line holding only a
/// tab passes `yaml-rust2` (a blank line) but libyaml, which the typed parse
/// uses, rejects it; the author got "the YAML readers disagree; please report
/// this config" instead of libyaml's positioned syntax error.
#[test]
fn a_syntax_error_only_libyaml_sees_is_reported_at_its_position() {
    let example = include_str!("../../../configs/example.yaml");
    let after_version = example
        .find("version: 1\n")
        .expect("the example has a version")
        + 11;
    let yaml = format!(
        "{}\t\n{}",
        &example[..after_version],
        &example[after_version..]
    );
    let line = 1 + yaml[..after_version].matches('\n').count();
    let errors = policy::load_str("c.yaml", yaml.as_bytes()).expect_err("rejected");
    let e = &errors.errors()[0];
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("tab"), "{e}");
    assert!(!e.message.contains("YAML readers disagree"), "{e}");
}
