//! Parsing what the replay harness reads back: `dpdk-testpmd`'s periodic port
//! statistics and op25bd's `--stats-json` file, and the small statistics the
//! harness reports (medians).

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
}
