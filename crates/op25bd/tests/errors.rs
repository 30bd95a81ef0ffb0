//! Bad command lines, configs and devices: a clear message and a non-zero exit,
//! never a panic.

mod common;

use common::*;

fn assert_clean_failure(o: &std::process::Output, code: i32, needle: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(code), "{t}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(needle),
        "expected {needle:?} in\n{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn a_missing_config_file_is_named_before_dpdk_starts() {
    let s = Scratch::new("nocfg");
    let mut a = s.eal();
    a.extend(["--", "--config", "/nonexistent/op25b.yaml"].map(String::from));
    let o = run(&a);
    assert_clean_failure(&o, 1, "/nonexistent/op25b.yaml");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("EAL"),
        "EAL must not start: {}",
        text(&o)
    );
}

#[test]
fn an_invalid_config_lists_its_errors_with_positions() {
    let s = Scratch::new("badcfg");
    let cfg = s.write(
        "bad.yaml",
        "version: 1\npools:\n  - name: x\n    mode: enforce\n    prefixes: [198.51.100.1/24]\n",
    );
    let mut a = s.eal();
    a.extend(["--", "--config"].map(String::from));
    a.push(cfg.display().to_string());
    assert_clean_failure(&run(&a), 1, "bad.yaml:5:");
}

#[test]
fn bad_eal_options_give_a_clear_error() {
    let s = Scratch::new("badeal");
    let mut a = vec!["--no-such-eal-option".to_string()];
    a.extend(s.eal());
    a.extend(["--", "--config"].map(String::from));
    a.push(root().join("configs/example.yaml").display().to_string());
    assert_clean_failure(&run(&a), 1, "DPDK EAL failed to start");
}

#[test]
fn a_pair_naming_a_missing_port_is_refused() {
    let s = Scratch::new("badpair");
    let mut a = s.eal();
    a.push("--vdev=net_null0".into());
    a.push("--vdev=net_null1".into());
    a.extend(["--", "--pair", "0:7", "--config"].map(String::from));
    a.push(root().join("configs/example.yaml").display().to_string());
    assert_clean_failure(&run(&a), 1, "port 7 does not exist");
}

#[test]
fn one_lcore_is_not_enough() {
    let s = Scratch::new("onelcore");
    let mut a: Vec<String> = s
        .eal()
        .into_iter()
        .map(|x| if x == "0-1" { "0".into() } else { x })
        .collect();
    a.push("--vdev=net_null0".into());
    a.push("--vdev=net_null1".into());
    a.extend(["--", "--config"].map(String::from));
    a.push(root().join("configs/example.yaml").display().to_string());
    assert_clean_failure(&run(&a), 1, "no worker lcore");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let o = run(&["--".into(), "--config".into()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(&["--help".into()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let help = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--config",
        "--pair",
        "--idle-exit-ms",
        "--stats-json",
        "EAL",
    ] {
        assert!(help.contains(opt), "{opt} missing from --help:\n{help}");
    }
}

#[test]
fn a_missing_input_pcap_is_a_clear_error() {
    let s = Scratch::new("nopcap");
    let mut a = s.eal();
    a.push("--vdev=net_pcap0,rx_pcap=/nonexistent/in.pcap,tx_pcap=/tmp/x.pcap".into());
    a.push("--vdev=net_null1".into());
    a.extend(["--", "--config"].map(String::from));
    a.push(root().join("configs/example.yaml").display().to_string());
    let o = run(&a);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}
