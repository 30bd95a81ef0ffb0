//! The end-to-end lab (`e2e/run.sh`): real Postfix and swaks through op25bd in
//! network namespaces, checked with tshark. Needs root; skipped LOUDLY elsewhere.
//!
//! The other tests here feed hand-made captures to the lab's capture checks
//! (`e2e/run.sh --analyze`) to show that each check fails when it should: a capture
//! check that cannot fail would prove nothing about op25bd's replies.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use op25b_bench::frame::{self, L2, L3, L4, TCP_ACK, TCP_RST, TCP_SYN};
use op25b_bench::pcap;

/// The script's exit status for "skipped" (automake's convention).
const EXIT_SKIP: i32 = 77;
/// The lab takes about 15 s; this is only a guard against a hung run.
const LAB_DEADLINE: Duration = Duration::from_secs(300);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn script() -> PathBuf {
    root().join("e2e/run.sh")
}

/// Straight to the process's stderr: libtest captures `eprintln!` of passing tests,
/// and a skipped lab must be visible in `make test` output.
fn loud(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{}\n{msg}\n{}\n", "#".repeat(72), "#".repeat(72));
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "op25b-e2e-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn lab_mail_through_op25bd_is_refused_or_delivered_as_the_policy_says() {
    let s = Scratch::new("lab");
    let (out, err) = (s.0.join("stdout"), s.0.join("stderr"));
    let mut child = Command::new("bash")
        .arg(script())
        .arg("--op25bd")
        .arg(env!("CARGO_BIN_EXE_op25bd"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("bash e2e/run.sh");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for e2e/run.sh") {
            break st;
        }
        if start.elapsed() > LAB_DEADLINE {
            // SIGTERM first: the script's trap then removes the namespaces.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "e2e/run.sh still running after {LAB_DEADLINE:?}:\n{}\n{}",
                read(&out),
                read(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (read(&out), read(&err));
    if status.code() == Some(EXIT_SKIP) {
        let why = stderr
            .lines()
            .find_map(|l| l.strip_prefix("# SKIPPED: "))
            .unwrap_or("see e2e/run.sh's output");
        loud(&format!(
            "SKIPPED: e2e lab test (crates/op25bd/tests/e2e_lab.rs): {why}"
        ));
        return;
    }
    println!("{stdout}\n{stderr}");
    assert!(
        status.success(),
        "e2e/run.sh failed ({status}):\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("op25b e2e lab: ") && stdout.contains(" passed, 0 failed"),
        "no summary line:\n{stdout}"
    );
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

// --- the capture checks, on hand-made captures ------------------------------------

const SUB_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x07];
const MX_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x25];
const DYN4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const MX4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 25);
const DYN6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 7);
const MX6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 0x25);
const SYN_SEQ: u32 = 0x8000_0001;

fn l2(from_sub: bool) -> L2 {
    let (src, dst) = if from_sub {
        (SUB_MAC, MX_MAC)
    } else {
        (MX_MAC, SUB_MAC)
    };
    L2 {
        dst,
        src,
        ..L2::default()
    }
}

fn tcp(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, window: u16) -> L4 {
    L4::Tcp {
        sport,
        dport,
        seq,
        ack,
        flags,
        window,
        options: Vec::new(),
        payload: Vec::new(),
    }
}

/// How a test spoils op25bd's reply.
#[derive(Clone, Copy, PartialEq)]
enum Spoil {
    Nothing,
    Seq,
    Ack,
    Window,
    Ttl,
    NoDf,
    IpId,
    HopLimit,
    MacsNotSwapped,
    Options,
    TcpChecksum,
    IpChecksum,
    RstAlsoOnServerSide,
    SynAgainAfterRst,
    SynReachesServer,
}

/// The SYN toward the outside MX on 25 and op25bd's RST, per the reply contract
/// (IPv4 on port 40001, IPv6 on 40002), unless `spoil` says otherwise.
fn blocked_exchange(spoil: Spoil) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut sub, mut srv) = (Vec::new(), Vec::new());
    for v6 in [false, true] {
        let (sport, up, down) = if v6 {
            (40002, L3::v6(DYN6, MX6), L3::v6(MX6, DYN6))
        } else {
            (40001, L3::v4(DYN4, MX4), L3::v4(MX4, DYN4))
        };
        let mut syn_l4 = L4::syn(sport, 25);
        if let L4::Tcp { seq, .. } = &mut syn_l4 {
            *seq = SYN_SEQ;
        }
        let syn = frame::build(&l2(true), &up, &syn_l4);
        let mut reply_l2 = l2(false);
        if spoil == Spoil::MacsNotSwapped {
            reply_l2 = l2(true);
        }
        let mut reply_l3 = down;
        match &mut reply_l3 {
            L3::V4 {
                ttl,
                id,
                dont_fragment,
                ..
            } => {
                *id = if spoil == Spoil::IpId { 7 } else { 0 };
                *ttl = if spoil == Spoil::Ttl { 63 } else { 64 };
                *dont_fragment = spoil != Spoil::NoDf;
            }
            L3::V6 { hop_limit, .. } => {
                *hop_limit = if spoil == Spoil::HopLimit { 255 } else { 64 };
            }
        }
        let seq = if spoil == Spoil::Seq { 1 } else { 0 };
        let ack = SYN_SEQ.wrapping_add(if spoil == Spoil::Ack { 0 } else { 1 });
        let window = if spoil == Spoil::Window { 512 } else { 0 };
        let mut rst_l4 = tcp(25, sport, TCP_RST | TCP_ACK, seq, ack, window);
        if let (Spoil::Options, L4::Tcp { options, .. }) = (spoil, &mut rst_l4) {
            *options = vec![1, 1, 1, 1];
        }
        let mut rst = frame::build(&reply_l2, &reply_l3, &rst_l4);
        let l3_len = if v6 { 40 } else { 20 };
        if spoil == Spoil::TcpChecksum {
            rst[14 + l3_len + 16] ^= 0x5a;
        }
        if spoil == Spoil::IpChecksum && !v6 {
            rst[14 + 10] ^= 0x5a;
        }
        sub.push(syn.clone());
        sub.push(rst.clone());
        if spoil == Spoil::SynAgainAfterRst {
            sub.push(syn.clone());
        }
        if spoil == Spoil::RstAlsoOnServerSide {
            srv.push(rst);
        }
        if spoil == Spoil::SynReachesServer {
            srv.push(syn);
        }
    }
    (sub, srv)
}

/// An allowed handshake (587) seen on both links, so neither capture is empty.
fn submission_handshake() -> Vec<Vec<u8>> {
    let l3_up = L3::v4(DYN4, MX4);
    let l3_down = L3::v4(MX4, DYN4);
    vec![
        frame::build(&l2(true), &l3_up, &tcp(40100, 587, TCP_SYN, 100, 0, 64240)),
        frame::build(
            &l2(false),
            &l3_down,
            &tcp(587, 40100, TCP_SYN | TCP_ACK, 900, 101, 65160),
        ),
        frame::build(&l2(true), &l3_up, &tcp(40100, 587, TCP_ACK, 101, 901, 502)),
    ]
}

/// Runs `e2e/run.sh --analyze` on the captures; None when tshark is missing.
fn analyze(phase: &str, sub: &[Vec<u8>], srv: &[Vec<u8>]) -> Option<(bool, String)> {
    let s = Scratch::new(&format!("analyze-{phase}"));
    pcap::write_file(&s.0.join(format!("{phase}-sub.pcapng")), sub).unwrap();
    pcap::write_file(&s.0.join(format!("{phase}-srv.pcapng")), srv).unwrap();
    let out = Command::new("bash")
        .arg(script())
        .args(["--analyze"])
        .arg(&s.0)
        .args(["--phases", phase])
        .output()
        .expect("bash e2e/run.sh --analyze");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(EXIT_SKIP) {
        loud(&format!("SKIPPED: e2e capture-check test: {text}"));
        return None;
    }
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "e2e/run.sh --analyze: {}\n{text}",
        out.status
    );
    Some((out.status.success(), text))
}

fn enforce_captures(spoil: Spoil) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut sub, mut srv) = blocked_exchange(spoil);
    sub.extend(submission_handshake());
    srv.extend(submission_handshake());
    (sub, srv)
}

fn assert_caught(spoil: Spoil, expect: &str) {
    let (sub, srv) = enforce_captures(spoil);
    let Some((ok, text)) = analyze("enforce", &sub, &srv) else {
        return;
    };
    assert!(!ok, "the capture checks passed a spoiled capture:\n{text}");
    assert!(
        text.contains(expect),
        "expected a failure mentioning {expect:?}:\n{text}"
    );
}

#[test]
fn capture_checks_pass_rsts_that_follow_the_reply_contract() {
    let (sub, srv) = enforce_captures(Spoil::Nothing);
    let Some((ok, text)) = analyze("enforce", &sub, &srv) else {
        return;
    };
    assert!(ok, "{text}");
    assert!(text.contains("per the contract"), "{text}");
    assert!(text.contains("never reached the server link"), "{text}");
}

#[test]
fn capture_checks_catch_bad_checksums_in_a_reply() {
    assert_caught(Spoil::TcpChecksum, "bad checksum");
    assert_caught(Spoil::IpChecksum, "bad checksum");
}

#[test]
fn capture_checks_catch_every_field_of_the_reply_contract() {
    // Each case is its own set of tshark runs: in parallel, to keep `make test` short.
    // A failing case panics its thread, and the scope then fails the test.
    std::thread::scope(|s| {
        for (spoil, expect) in [
            (Spoil::Seq, "seq 1 (want 0)"),
            (Spoil::Ack, "(want 2147483650)"),
            (Spoil::Window, "window 512 (want 0)"),
            (Spoil::Ttl, "TTL 63 (want 64)"),
            (Spoil::NoDf, "DF not set"),
            (Spoil::IpId, "IP ID 0x0007 (want 0)"),
            (Spoil::HopLimit, "hop limit 255 (want 64)"),
            (Spoil::MacsNotSwapped, "are not the SYN's swapped"),
            (Spoil::Options, "header 24 bytes (want 20, no options)"),
        ] {
            s.spawn(move || assert_caught(spoil, expect));
        }
    });
}

#[test]
fn capture_checks_catch_a_rst_that_came_from_the_server() {
    assert_caught(Spoil::RstAlsoOnServerSide, "RST from the server itself");
}

#[test]
fn capture_checks_catch_a_syn_sent_again_after_the_rst() {
    assert_caught(Spoil::SynAgainAfterRst, "SYN retransmitted in frame");
}

#[test]
fn capture_checks_catch_a_blocked_syn_that_reached_the_server() {
    assert_caught(Spoil::SynReachesServer, "reached the server link");
}

#[test]
fn capture_checks_catch_a_missing_rst_and_a_rst_in_monitor_mode() {
    // Enforce: the SYNs alone, no RST.
    let (sub, _) = blocked_exchange(Spoil::Nothing);
    let syns_only: Vec<Vec<u8>> = sub.iter().step_by(2).cloned().collect();
    let mut srv = submission_handshake();
    let mut sub_all = syns_only.clone();
    sub_all.extend(submission_handshake());
    if let Some((ok, text)) = analyze("enforce", &sub_all, &srv) {
        assert!(!ok && text.contains("no RST from op25bd"), "{text}");
    }
    // Monitor: the same RSTs are a failure (op25bd must only watch).
    let (mut sub, _) = blocked_exchange(Spoil::Nothing);
    sub.extend(submission_handshake());
    srv.extend(syns_only);
    if let Some((ok, text)) = analyze("monitor", &sub, &srv) {
        assert!(
            !ok && text.contains("op25bd sent a RST in monitor mode"),
            "{text}"
        );
    }
}
