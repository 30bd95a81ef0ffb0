//! What the benchmark harness reads back and how it judges and writes it:
//! `dpdk-testpmd`'s periodic port statistics and op25bd's `--stats-json` file,
//! the small statistics the harness reports (medians), whether a paced load
//! phase reached its target ([`shortfall`]), and the update of RESULTS.md
//! that keeps the hand-written part ([`merge_results_md`]).

use std::fmt;

use serde_json::Value;

/// One `dpdk-testpmd --stats-period` run, from its output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestpmdRun {
    /// `Rx-pps` of the measured port, one per statistics period, in order.
    pub rx_pps: Vec<u64>,
    /// `RX-packets` of the measured port in its last forward statistics (at exit).
    pub rx_packets: Option<u64>,
}

impl TestpmdRun {
    /// Throughput in Mpps: the mean `Rx-pps` over the periods after the first
    /// `skip` (the first periods include start-up). `None` without enough periods.
    pub fn mpps(&self, skip: usize) -> Option<f64> {
        let steady = self.rx_pps.get(skip..)?;
        if steady.is_empty() {
            return None;
        }
        Some(steady.iter().sum::<u64>() as f64 / steady.len() as f64 / 1e6)
    }
}

/// Reads testpmd's output: the `Rx-pps` lines of the "NIC statistics for port
/// `port`" blocks (printed every `--stats-period` seconds; each block starts
/// with a terminal clear sequence, ignored here), and `RX-packets` of the
/// "Forward statistics for port `port`" block printed at exit.
pub fn parse_testpmd(output: &str, port: u16) -> TestpmdRun {
    let nic = format!("NIC statistics for port {port} ");
    let fwd = format!("Forward statistics for port {port} ");
    #[derive(PartialEq)]
    enum In {
        Nothing,
        Nic,
        Fwd,
    }
    let mut state = In::Nothing;
    let mut run = TestpmdRun::default();
    for line in output.lines() {
        if line.contains("NIC statistics for port") || line.contains("Forward statistics for port")
        {
            state = if line.contains(&nic) {
                In::Nic
            } else if line.contains(&fwd) {
                In::Fwd
            } else {
                In::Nothing
            };
            continue;
        }
        let t = line.trim_start();
        match state {
            In::Nic if t.starts_with("Rx-pps:") => {
                if let Some(v) = first_number_after(t, "Rx-pps:") {
                    run.rx_pps.push(v);
                }
                state = In::Nothing;
            }
            In::Fwd if t.starts_with("RX-packets:") => {
                run.rx_packets = first_number_after(t, "RX-packets:");
                state = In::Nothing;
            }
            _ => {}
        }
    }
    run
}

fn first_number_after(line: &str, key: &str) -> Option<u64> {
    line.split_once(key)?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What the harness takes from op25bd's `--stats-json` file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Op25bdRun {
    pub rx: u64,
    pub forwarded: u64,
    pub replied: u64,
    pub dropped: u64,
    pub elapsed_s: f64,
    /// p50, p99, p999, max of the per-burst residence time, when recorded.
    pub latency_ns: Option<[u64; 4]>,
}

impl Op25bdRun {
    pub fn mpps(&self) -> Option<f64> {
        (self.elapsed_s > 0.0).then(|| self.rx as f64 / self.elapsed_s / 1e6)
    }
}

/// Reads op25bd's stats JSON; a clear message when a key is missing.
pub fn parse_op25bd_stats(text: &str) -> Result<Op25bdRun, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let u = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("no counter `{k}`"))
    };
    let latency_ns = match v.get("latency_ns") {
        Some(l) => {
            let g = |k: &str| {
                l.get(k)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| format!("no `latency_ns.{k}`"))
            };
            Some([g("p50")?, g("p99")?, g("p999")?, g("max")?])
        }
        None => None,
    };
    Ok(Op25bdRun {
        rx: u("rx")?,
        forwarded: u("forwarded")?,
        replied: u("replied")?,
        dropped: u("dropped")?,
        elapsed_s: v
            .get("elapsed_s")
            .and_then(Value::as_f64)
            .ok_or("no `elapsed_s`")?,
        latency_ns,
    })
}

/// The median (mean of the middle two for an even count); `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// How far below its target a paced phase may end before it is reported as
/// missed (5 %): the load a phase's name claims must be the load it ran at.
pub const MISS_TOLERANCE: f64 = 0.05;

/// Who kept a paced phase below its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The injector could not offer the target rate (building frames, or off its CPU).
    Injector,
    /// The injector offered it, but the worker did not take it all in (its
    /// ring filled up, or a backlog was left at the end).
    Worker,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::Injector => "injector",
            Limit::Worker => "worker",
        }
    }
}

/// A paced phase that ended more than [`MISS_TOLERANCE`] below its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shortfall {
    /// What the worker received, in Mpps.
    pub achieved_mpps: f64,
    pub target_mpps: f64,
    pub limited_by: Limit,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "missed: achieved {:.3} of target {:.3} Mpps ({:.0} %), limited by the {}",
            self.achieved_mpps,
            self.target_mpps,
            100.0 * self.achieved_mpps / self.target_mpps,
            self.limited_by.name()
        )
    }
}

/// Whether a paced phase with `target_mpps` fell short: `offered_mpps` is what
/// the injector put on the access ring (refused frames included), `received_mpps`
/// what the worker received. The injector is the limit when it offered less than
/// the target (within [`MISS_TOLERANCE`]); otherwise the worker is, when it
/// received less. `None` when the phase reached its target, or there is no
/// meaningful target (not a positive finite rate).
pub fn shortfall(target_mpps: f64, offered_mpps: f64, received_mpps: f64) -> Option<Shortfall> {
    if !(target_mpps.is_finite() && target_mpps > 0.0) {
        return None;
    }
    let floor = target_mpps * (1.0 - MISS_TOLERANCE);
    // NaN rates (no elapsed time) count as nothing achieved.
    let ok = |x: f64| x >= floor;
    let limited_by = if !ok(offered_mpps) {
        Limit::Injector
    } else if !ok(received_mpps) {
        Limit::Worker
    } else {
        return None;
    };
    Some(Shortfall {
        achieved_mpps: if received_mpps.is_finite() {
            received_mpps
        } else {
            0.0
        },
        target_mpps,
        limited_by,
    })
}

/// The line that ends the generated part of RESULTS.md. Everything after it
/// is maintained by hand and kept byte for byte by [`merge_results_md`].
pub const GENERATED_END: &str =
    "<!-- end of generated results: op25b-bench rewrites everything above this line and keeps everything below it -->";

/// The first line of a generated RESULTS.md.
pub const GENERATED_TITLE: &str = "# op25b benchmark results";

/// The heading under which [`merge_results_md`] keeps a file it did not write.
pub const KEPT_HEADING: &str = "## Kept from the previous RESULTS.md";

/// The new RESULTS.md: `generated` (the part op25b-bench owns), the
/// [`GENERATED_END`] line, then what of `old` (the file as it was, `None` when
/// there was none) is not generated:
///
/// - `old` has the marker line: everything after that line, byte for byte.
/// - `old` has no marker (written before the marker existed): from its first
///   level-2 heading (`## `) that `generated` does not have (e.g. a hand-written
///   "## Robustness") to the end, byte for byte. Headings are compared by name:
///   their text up to the first `:` or `(`. A file that starts with
///   [`GENERATED_TITLE`] and has only generated headings was wholly generated
///   and is replaced.
/// - `old` has no marker and is not recognisably a generated file: all of it is
///   kept, under [`KEPT_HEADING`], so nothing written by hand is ever lost.
pub fn merge_results_md(generated: &str, old: Option<&str>) -> String {
    let mut out = String::with_capacity(generated.len() + old.map_or(0, str::len) + 256);
    out.push_str(generated);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // A blank line before the marker keeps the Markdown above it intact.
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(GENERATED_END);
    out.push('\n');
    let Some(old) = old else {
        return out;
    };
    if let Some(rest) = after_marker(old) {
        out.push_str(rest);
        return out;
    }
    let ours: Vec<&str> = generated.lines().filter_map(heading_key).collect();
    let mut offset = 0;
    for line in old.split_inclusive('\n') {
        if heading_key(line).is_some_and(|k| !ours.contains(&k)) {
            out.push('\n');
            out.push_str(&old[offset..]);
            return out;
        }
        offset += line.len();
    }
    if old.trim().is_empty() || old.starts_with(GENERATED_TITLE) {
        return out;
    }
    out.push('\n');
    out.push_str(KEPT_HEADING);
    out.push_str(" (it had no generated-results marker; kept whole)\n\n");
    out.push_str(old);
    out
}

/// The name of a level-2 heading: its text up to the first `:` or `(`
/// ("Latency" for "## Latency: per-burst ..."), so that a generated section
/// whose heading's details changed between versions is still recognised.
fn heading_key(line: &str) -> Option<&str> {
    let text = line.strip_prefix("## ")?;
    let end = text.find([':', '(']).unwrap_or(text.len());
    Some(text[..end].trim()).filter(|k| !k.is_empty())
}

/// What follows the [`GENERATED_END`] line of `text`, if it has one.
fn after_marker(text: &str) -> Option<&str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if line.trim() == GENERATED_END {
            return Some(&text[offset..]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped like dpdk-testpmd 22.11's output with --stats-period 1 (trimmed).
    const TESTPMD: &str = "\
Logical Core 1 (socket 0) forwards packets on 2 streams:
\x1b[2J\x1b[1;1H
Port statistics ====================================
  ######################## NIC statistics for port 0  ########################
  RX-packets: 15452935   RX-missed: 0          RX-bytes:  988987840
  RX-errors: 0
  RX-nombuf:  0
  TX-packets: 0          TX-errors: 0          TX-bytes:  0

  Throughput (since last show)
  Rx-pps:     15452935          Rx-bps:  26613662944
  Tx-pps:            0          Tx-bps:            0
  ############################################################################

  ######################## NIC statistics for port 1  ########################
  RX-packets: 0          RX-missed: 0          RX-bytes:  0
  Throughput (since last show)
  Rx-pps:            0          Rx-bps:            0
  Tx-pps:     15452866          Tx-bps:            0
  ############################################################################
\x1b[2J\x1b[1;1H
Port statistics ====================================
  ######################## NIC statistics for port 0  ########################
  RX-packets: 31114848   RX-missed: 0          RX-bytes:  1991350272
  Throughput (since last show)
  Rx-pps:     15661913          Rx-bps:  8019299456
  ############################################################################
Telling cores to stop...
  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 48180160       RX-dropped: 0             RX-total: 48180160
  TX-packets: 0              TX-dropped: 0             TX-total: 0
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 0              RX-dropped: 0             RX-total: 0
  TX-packets: 48180160       TX-dropped: 0             TX-total: 48180160
";

    #[test]
    fn testpmd_rates_come_from_the_measured_port_only() {
        let r = parse_testpmd(TESTPMD, 0);
        assert_eq!(r.rx_pps, vec![15452935, 15661913]);
        assert_eq!(r.rx_packets, Some(48180160));
        assert_eq!(r.mpps(1), Some(15.661913));
        assert_eq!(r.mpps(2), None);
        let p1 = parse_testpmd(TESTPMD, 1);
        assert_eq!(p1.rx_pps, vec![0]);
        assert_eq!(p1.rx_packets, Some(0));
    }

    #[test]
    fn testpmd_output_without_statistics_gives_nothing() {
        let r = parse_testpmd("EAL: Error - exiting with code: 1\n", 0);
        assert_eq!(r, TestpmdRun::default());
        assert_eq!(r.mpps(0), None);
    }

    #[test]
    fn op25bd_stats_are_read_and_missing_keys_named() {
        let s = r#"{"rx": 100, "forwarded": 90, "replied": 6, "dropped": 4, "elapsed_s": 2.0,
                    "latency_ns": {"bursts": 9, "p50": 1, "p90": 2, "p99": 3, "p999": 4, "max": 5}}"#;
        let r = parse_op25bd_stats(s).unwrap();
        assert_eq!(r.rx, 100);
        assert_eq!(r.latency_ns, Some([1, 3, 4, 5]));
        assert_eq!(r.mpps(), Some(100.0 / 2.0 / 1e6));
        let e = parse_op25bd_stats(r#"{"rx": 1, "forwarded": 1, "replied": 0, "elapsed_s": 1}"#)
            .unwrap_err();
        assert!(e.contains("dropped"), "{e}");
        assert!(parse_op25bd_stats("{").unwrap_err().contains("not JSON"));
        let no_lat = r#"{"rx": 1, "forwarded": 1, "replied": 0, "dropped": 0, "elapsed_s": 0}"#;
        let r = parse_op25bd_stats(no_lat).unwrap();
        assert_eq!((r.latency_ns, r.mpps()), (None, None));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn a_phase_at_its_target_or_within_five_percent_is_not_missed() {
        assert_eq!(shortfall(2.0, 2.0, 2.0), None);
        assert_eq!(shortfall(2.0, 1.91, 1.90), None);
        assert_eq!(shortfall(2.0, 2.5, 2.4), None);
    }

    #[test]
    fn a_phase_the_injector_could_not_offer_is_limited_by_the_injector() {
        let s = shortfall(4.0, 3.0, 2.9).unwrap();
        assert_eq!(s.limited_by, Limit::Injector);
        assert_eq!((s.achieved_mpps, s.target_mpps), (2.9, 4.0));
        assert_eq!(
            s.to_string(),
            "missed: achieved 2.900 of target 4.000 Mpps (72 %), limited by the injector"
        );
    }

    #[test]
    fn a_phase_offered_in_full_but_not_received_is_limited_by_the_worker() {
        let s = shortfall(2.08, 2.08, 1.36).unwrap();
        assert_eq!(s.limited_by, Limit::Worker);
        assert!(s.to_string().contains("limited by the worker"), "{s}");
        assert!(s.to_string().contains("1.360 of target 2.080"), "{s}");
    }

    #[test]
    fn phases_without_a_meaningful_target_or_with_no_time_are_judged_sanely() {
        assert_eq!(shortfall(f64::NAN, 1.0, 1.0), None);
        assert_eq!(shortfall(0.0, 1.0, 1.0), None);
        assert_eq!(shortfall(-1.0, 1.0, 1.0), None);
        let s = shortfall(1.0, f64::NAN, f64::NAN).unwrap();
        assert_eq!((s.limited_by, s.achieved_mpps), (Limit::Injector, 0.0));
    }

    const GENERATED: &str = "# op25b benchmark results\n\nnew numbers\n\n## Replay: x\n\n| a |\n\n## Latency: y (dp-bench)\n\nz\n";

    #[test]
    fn text_after_the_marker_is_kept_byte_for_byte() {
        let hand = "\n## Robustness\n\nhand  written\r\ntrailing spaces   \n\n\nno final newline";
        let old = format!("# op25b benchmark results\n\nold numbers\n\n{GENERATED_END}\n{hand}");
        let new = merge_results_md(GENERATED, Some(&old));
        assert_eq!(new, format!("{GENERATED}\n{GENERATED_END}\n{hand}"));
        assert!(!new.contains("old numbers"));
        // Idempotent: merging again changes nothing.
        assert_eq!(merge_results_md(GENERATED, Some(&new)), new);
    }

    #[test]
    fn a_missing_file_gets_the_generated_part_and_the_marker() {
        let new = merge_results_md(GENERATED, None);
        assert_eq!(new, format!("{GENERATED}\n{GENERATED_END}\n"));
        assert_eq!(after_marker(&new), Some(""));
    }

    #[test]
    fn without_a_marker_the_first_hand_written_section_and_all_after_it_are_kept() {
        let hand =
            "## Robustness\n\nMeasured by hand.\n\n### Fuzzing\n\n| t |\n\n## Latency notes\nx\n";
        let old = format!(
            "# op25b benchmark results\n\nold\n\n## Replay: old heading\n\nold\n\n## Latency: per-burst (old)\n\nold\n\n{hand}"
        );
        let new = merge_results_md(GENERATED, Some(&old));
        assert_eq!(new, format!("{GENERATED}\n{GENERATED_END}\n\n{hand}"));
        assert!(!new.contains("old"));
    }

    #[test]
    fn a_wholly_generated_file_without_marker_is_replaced() {
        let old = "# op25b benchmark results\n\nold\n\n## Replay: a\n\n## Latency: b\n";
        assert_eq!(
            merge_results_md(GENERATED, Some(old)),
            format!("{GENERATED}\n{GENERATED_END}\n")
        );
        assert_eq!(
            merge_results_md(GENERATED, Some("")),
            format!("{GENERATED}\n{GENERATED_END}\n")
        );
    }

    #[test]
    fn a_file_we_did_not_write_is_kept_whole_under_a_heading() {
        let old = "Notes from the lab, no headings at all.\n";
        let new = merge_results_md(GENERATED, Some(old));
        assert!(new.starts_with(GENERATED));
        let kept = after_marker(&new).unwrap();
        assert!(kept.starts_with(&format!("\n{KEPT_HEADING}")), "{kept}");
        assert!(kept.ends_with(old));
        // The next run finds the marker and keeps the same text.
        assert_eq!(merge_results_md(GENERATED, Some(&new)), new);
    }

    #[test]
    fn the_repository_results_file_keeps_its_robustness_section() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/RESULTS.md");
        let old = std::fs::read_to_string(path).expect("bench/RESULTS.md is in the repository");
        let new = merge_results_md(GENERATED, Some(&old));
        let kept = match after_marker(&old) {
            Some(rest) => rest,
            None => {
                let i = old
                    .find("\n## Robustness")
                    .expect("bench/RESULTS.md has a marker or a hand-written Robustness section");
                &old[i + 1..]
            }
        };
        assert!(new.ends_with(kept));
        assert!(!kept.is_empty());
    }
}
