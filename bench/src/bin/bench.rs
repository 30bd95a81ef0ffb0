//! `op25b-bench`: the whole benchmark (`make bench`), with progress on the terminal.
//!
//! 1. Writes the benchmark mixes (64 B and IMIX) as pcaps and their config.
//! 2. Replay: op25bd reads a pcap through `net_pcap` (`infinite_rx=1`) into
//!    `net_null`; `dpdk-testpmd` io-forwarding on the same vdevs and lcores is
//!    the ceiling. The two alternate (A B A B ...) for `--rounds` rounds of
//!    `--secs` seconds each; medians and their ratio are reported.
//! 3. Runs `dp-bench` (latency at paced loads and during swaps, swap cost),
//!    `lpm-bench` (our LPM against rte_fib/rte_fib6, 2-byte next hops as op25b
//!    stores them) and `classify-bench` (the classifier's ns per frame without
//!    I/O, next to the replay's per-frame figures) as subprocesses.
//! 4. Writes `latest.json`, the PNG plots (`bench/scripts/plot.py`) and the
//!    generated part of `RESULTS.md`: everything above its end marker line
//!    (`replay::GENERATED_END`); what follows the marker (the hand-maintained
//!    sections, e.g. "## Robustness") is kept byte for byte.
//!
//! Every DPDK process runs alone (one at a time) with `--no-shconf` and a file
//! prefix of its own (`op25b-bench-*-PID`); the runtime directories DPDK still
//! creates are removed at the end.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use op25b_bench::mix::{self, MixSpec, Sizes};
use op25b_bench::pcap;
use op25b_bench::replay::{self, median};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(
    name = "op25b-bench",
    about = "op25b benchmarks: replay against dpdk-testpmd, latency, LPM against rte_fib, swap cost",
    long_about = "Runs every op25b benchmark one DPDK process at a time and writes OUT/latest.json, \
the PNG plots next to it and RESULTS.md. Throughput is always a ratio measured in the same run \
against a baseline on the same virtual devices (dpdk-testpmd io forwarding; rte_fib/rte_fib6)."
)]
struct Args {
    /// Directory for latest.json and the plots.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Where RESULTS.md goes.
    #[arg(long, default_value = "bench/RESULTS.md")]
    results_md: PathBuf,
    /// Scratch directory for the generated pcaps, configs and per-run files.
    #[arg(long, default_value = "target/bench-work")]
    work: PathBuf,
    /// Directory holding op25bd, dp-bench and lpm-bench (release builds).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The I/O baseline.
    #[arg(long, default_value = "dpdk-testpmd")]
    testpmd: PathBuf,
    /// Replay rounds (each: op25bd, then testpmd, per mix).
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Seconds of each replay run.
    #[arg(long, default_value_t = 8)]
    secs: u64,
    /// Frames per replay pcap (net_pcap loads them all into mbufs first).
    #[arg(long, default_value_t = 4096)]
    frames: usize,
    /// Prefixes of the replay and latency config.
    #[arg(long, default_value_t = 100_000)]
    prefixes: usize,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 25)]
    seed: u64,
    /// A short run for trying the harness (2 rounds of 3 s, smaller LPM and swap sizes).
    #[arg(long)]
    quick: bool,
    /// Python with matplotlib for the plots (Debian: python3-matplotlib, for /usr/bin/python3).
    #[arg(long, default_value = "/usr/bin/python3")]
    python: PathBuf,
    /// Skip the plots (no python3-matplotlib).
    #[arg(long)]
    no_plots: bool,
    /// Run nothing: write the plots and RESULTS.md again from OUT/latest.json.
    #[arg(long)]
    render_only: bool,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.quick {
        args.rounds = args.rounds.min(2);
        args.secs = args.secs.min(3);
    }
    if args.rounds == 0 || args.secs == 0 || args.frames == 0 || args.prefixes == 0 {
        eprintln!("op25b-bench: --rounds, --secs, --frames and --prefixes must be at least 1");
        return ExitCode::from(2);
    }
    let result = run(&args);
    remove_runtime_dirs();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("op25b-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(t0: Instant, msg: &str) {
    println!("[{:>5.0} s] {msg}", t0.elapsed().as_secs_f64());
}

fn run(args: &Args) -> Result<(), String> {
    let t0 = Instant::now();
    if args.render_only {
        let latest = args.out.join("latest.json");
        return publish(args, &read_json(&latest)?, &latest, t0);
    }
    for dir in [&args.out, &args.work] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let bin = |name: &str| -> Result<PathBuf, String> {
        let p = args.bin_dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{} not found: build first (cargo build --release -p op25bd -p op25b-bench)",
                p.display()
            ))
        }
    };
    let (op25bd, dp_bench, lpm_bench) = (bin("op25bd")?, bin("dp-bench")?, bin("lpm-bench")?);
    let classify_bench = bin("classify-bench")?;
    let machine = machine_info();
    step(
        t0,
        &format!(
            "machine: {} ({} CPUs), load average {}",
            machine["cpu"].as_str().unwrap_or("?"),
            machine["cpus"],
            machine["load_start"].as_str().unwrap_or("?")
        ),
    );

    // 1. Traffic and config.
    let mut mixes = Vec::new();
    for sizes in [Sizes::Min64, Sizes::Imix] {
        let spec = MixSpec::isp(sizes, args.prefixes);
        let frames = mix::frames(&spec, args.seed, args.frames);
        let st = mix::stats(&frames);
        let path = args.work.join(format!("mix-{}.pcap", sizes.name()));
        let bytes: Vec<Vec<u8>> = frames.into_iter().map(|(f, _)| f).collect();
        pcap::write_file(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        step(
            t0,
            &format!(
                "wrote {} ({} frames, mean {:.0} B, {:.1} % IPv6, {:.1} % port 25, {:.1} % blocked)",
                path.display(),
                st.frames,
                st.mean_bytes,
                100.0 * st.v6 as f64 / st.frames as f64,
                100.0 * st.port25 as f64 / st.frames as f64,
                100.0 * st.blocked as f64 / st.frames as f64
            ),
        );
        mixes.push((spec, path, st));
    }
    let config = args.work.join("bench.yaml");
    std::fs::write(&config, mixes[0].0.config_yaml())
        .map_err(|e| format!("{}: {e}", config.display()))?;

    // 2. Replay, A B A B.
    let mut replay_mixes = serde_json::Map::new();
    for (spec, pcap_path, st) in &mixes {
        let name = spec.sizes.name();
        let (mut ours, mut base, mut lat) = (Vec::new(), Vec::new(), Vec::new());
        let mut runs = Vec::new();
        for round in 1..=args.rounds {
            let a = run_op25bd(args, &op25bd, pcap_path, &config, round)?;
            let a_mpps = a.mpps().ok_or("op25bd reported no elapsed time")?;
            step(
                t0,
                &format!(
                    "replay {name} round {round}/{}: op25bd  {a_mpps:6.2} Mpps (forwarded {}, replied {}, dropped {})",
                    args.rounds, a.forwarded, a.replied, a.dropped
                ),
            );
            let b = run_testpmd(args, pcap_path, round)?;
            let b_mpps = b
                .mpps(1)
                .ok_or("testpmd printed fewer than two statistics periods")?;
            step(
                t0,
                &format!(
                    "replay {name} round {round}/{}: testpmd {b_mpps:6.2} Mpps ({} periods)",
                    args.rounds,
                    b.rx_pps.len()
                ),
            );
            ours.push(a_mpps);
            base.push(b_mpps);
            if let Some(l) = a.latency_ns {
                lat.push(l);
            }
            runs.push(
                json!({"round": round, "op25bd_mpps": a_mpps, "testpmd_mpps": b_mpps,
                "op25bd_rx": a.rx, "op25bd_forwarded": a.forwarded, "op25bd_replied": a.replied,
                "op25bd_dropped": a.dropped, "op25bd_latency_ns": a.latency_ns,
                "testpmd_rx_pps": b.rx_pps}),
            );
        }
        let (m_ours, m_base) = (median(&ours).unwrap_or(0.0), median(&base).unwrap_or(0.0));
        let ratio = if m_base > 0.0 { m_ours / m_base } else { 0.0 };
        // Latency: the median over the rounds of each percentile.
        let lat_med = |i: usize| {
            median(&lat.iter().map(|l| l[i] as f64).collect::<Vec<_>>()).map(|x| x.round() as u64)
        };
        step(
            t0,
            &format!("replay {name}: op25bd {m_ours:.2} Mpps, testpmd {m_base:.2} Mpps, ratio {ratio:.3}"),
        );
        replay_mixes.insert(
            name.to_owned(),
            json!({
                "op25bd_mpps": m_ours, "testpmd_mpps": m_base, "ratio": ratio,
                "latency_ns": {"p50": lat_med(0), "p99": lat_med(1), "p999": lat_med(2), "max": lat_med(3)},
                "frames": st.frames, "mean_frame_bytes": st.mean_bytes,
                "v6_share": st.v6 as f64 / st.frames as f64,
                "port25_share": st.port25 as f64 / st.frames as f64,
                "blocked_share": st.blocked as f64 / st.frames as f64,
                "rounds": runs,
            }),
        );
    }

    // 3. Latency and swap cost; LPM.
    step(
        t0,
        "dp-bench: latency at paced loads and during swaps, then swap cost",
    );
    let dp_json = args.work.join("dp-bench.json");
    let mut dp_cmd = Command::new(&dp_bench);
    dp_cmd
        .args(bench_eal("dp", "0-1", 512))
        // dp-bench's core ports: net_null devices, so the worker frees what it
        // forwards (see dp-bench's module documentation).
        .args(["--vdev=net_null_lat,no-rx=1", "--vdev=net_null_swp,no-rx=1"])
        .arg("--")
        .arg("--json")
        .arg(&dp_json)
        .arg("--prefixes")
        .arg(args.prefixes.to_string());
    if args.quick {
        dp_cmd.args([
            "--max-secs",
            "2",
            "--phase-secs",
            "2",
            "--swap-sizes",
            "10000,100000",
        ]);
    }
    run_to_end(dp_cmd, "dp-bench", Duration::from_secs(400))?;
    let dp = read_json(&dp_json)?;
    for line in latency_lines(&dp["latency"]) {
        step(t0, &line);
    }

    step(
        t0,
        "lpm-bench: our LPM against rte_fib/rte_fib6 (same tables, same keys)",
    );
    let lpm_json = args.work.join("lpm-bench.json");
    let mut lpm_cmd = Command::new(&lpm_bench);
    lpm_cmd
        .args(bench_eal("lpm", "0", 4096))
        .arg("--")
        .arg("--json")
        .arg(&lpm_json)
        // op25b's tables map prefixes to u16 pool ids: rte_fib gets nh_size 2 too
        // (rte_fib6 stays at 4, see bench/LPM.md).
        .args(["--next-hop-bytes", "2"]);
    if args.quick {
        lpm_cmd.args([
            "--v4-prefixes",
            "100000",
            "--v6-prefixes",
            "20000",
            "--keys",
            "1000000",
            "--rounds",
            "3",
        ]);
    } else {
        lpm_cmd.args(["--rounds", "5"]);
    }
    run_to_end(lpm_cmd, "lpm-bench", Duration::from_secs(400))?;
    let lpm = read_json(&lpm_json)?;

    // The classifier alone (no DPDK), for the per-frame budget next to the replay.
    step(t0, "classify-bench: the classifier per frame, without I/O");
    let classify_json = args.work.join("classify-bench.json");
    let mut classify_cmd = Command::new(&classify_bench);
    classify_cmd
        .arg("--prefixes")
        .arg(args.prefixes.to_string())
        .arg("--json")
        .arg(&classify_json);
    run_to_end(classify_cmd, "classify-bench", Duration::from_secs(300))?;
    let classify = read_json(&classify_json)?;

    // 4. Results.
    let mut machine = machine;
    machine["load_end"] = json!(loadavg());
    let doc = compose(
        args,
        &replay_mixes,
        &dp,
        &lpm,
        machine,
        t0.elapsed().as_secs_f64(),
    )?;
    let mut doc = doc;
    doc["replay"]["classify"] = classify["classify"].clone();
    let latest = args.out.join("latest.json");
    std::fs::write(&latest, format!("{doc:#}\n"))
        .map_err(|e| format!("{}: {e}", latest.display()))?;
    step(t0, &format!("wrote {}", latest.display()));
    publish(args, &doc, &latest, t0)
}

/// The plots (from `latest`) and RESULTS.md (from `doc`, its contents).
fn publish(args: &Args, doc: &Value, latest: &Path, t0: Instant) -> Result<(), String> {
    if !args.no_plots {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/plot.py");
        let mut c = Command::new(&args.python);
        c.arg(&script).arg(latest).arg(&args.out);
        run_to_end(c, "plot.py", Duration::from_secs(120))?;
        step(t0, &format!("wrote the plots into {}", args.out.display()));
    }
    write_results_md(&args.results_md, &results_md(doc))?;
    step(
        t0,
        &format!(
            "wrote {} (the generated part; what follows its end marker is kept)",
            args.results_md.display()
        ),
    );
    Ok(())
}

/// Removes the EAL runtime directories this run's DPDK processes left
/// (`/var/run/dpdk/op25b-bench-*-PID`): each process had its own file prefix.
fn remove_runtime_dirs() {
    let suffix = format!("-{}", std::process::id());
    let Ok(entries) = std::fs::read_dir("/var/run/dpdk") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("op25b-bench-") && name.ends_with(&suffix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// EAL options for dp-bench and lpm-bench: the ones they use by default
/// (plain pages, no PCI, no shared runtime files, `lcores`, `mem_mib` MiB),
/// with a file prefix of this run, so that [`remove_runtime_dirs`] removes the
/// runtime directory DPDK still creates with `--no-shconf`.
fn bench_eal(tag: &str, lcores: &str, mem_mib: u32) -> Vec<String> {
    vec![
        "--no-huge".into(),
        "--no-pci".into(),
        "--no-shconf".into(),
        "-l".into(),
        lcores.into(),
        "-m".into(),
        mem_mib.to_string(),
        "--log-level=*:warning".into(),
        format!("--file-prefix=op25b-bench-{tag}-{}", std::process::id()),
    ]
}

fn eal_common(tag: &str) -> Vec<String> {
    [
        "--no-huge",
        "--no-pci",
        "--no-shconf",
        "-l",
        "0-1",
        "-m",
        "1024",
        "--log-level=*:warning",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--file-prefix={tag}")])
    .collect()
}

fn vdevs(pcap: &Path) -> Vec<String> {
    vec![
        format!("--vdev=net_pcap0,rx_pcap={},infinite_rx=1", pcap.display()),
        "--vdev=net_null0,no-rx=1".to_owned(),
    ]
}

/// Sends `sig` (TERM, INT, KILL) to the child.
fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status();
}

/// Waits up to `limit` for the child, then kills it. Returns its exit status.
fn wait_limited(
    child: &mut Child,
    limit: Duration,
    what: &str,
) -> Result<std::process::ExitStatus, String> {
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Ok(s),
            Ok(None) if t.elapsed() < limit => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                signal(child, "KILL");
                let _ = child.wait();
                return Err(format!(
                    "{what} did not exit within {} s; killed",
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    }
}

/// Runs `cmd` with its output piped, waits (up to a minute) for a line
/// containing one of `markers` (the program is up and forwarding), lets it run `secs`
/// more seconds, sends `sig` and waits for the exit. Returns the exit status
/// and everything it printed (stdout, then stderr).
fn supervise(
    mut cmd: Command,
    markers: &[&str],
    secs: u64,
    sig: &str,
    what: &str,
) -> Result<(std::process::ExitStatus, String), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let mut readers = Vec::new();
    let pipes: Vec<Box<dyn Read + Send>> = vec![
        Box::new(child.stdout.take().ok_or("no stdout")?),
        Box::new(child.stderr.take().ok_or("no stderr")?),
    ];
    for pipe in pipes {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)) {
                let Ok(line) = line else { break };
                let _ = tx.send(line.clone());
                all.push_str(&line);
                all.push('\n');
            }
            all
        }));
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut up = false;
    while !up {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => up = markers.iter().any(|m| line.contains(m)),
            Err(_) => break, // exited (pipes closed) or timed out
        }
    }
    if up {
        std::thread::sleep(Duration::from_secs(secs));
    }
    signal(&child, sig);
    let status = wait_limited(&mut child, Duration::from_secs(30), what)?;
    let output: String = readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("--- stderr ---\n");
    if !up {
        return Err(format!(
            "{what} ({status}) never printed any of {markers:?}; its output:\n{output}"
        ));
    }
    Ok((status, output))
}

fn run_op25bd(
    args: &Args,
    op25bd: &Path,
    pcap: &Path,
    config: &Path,
    round: usize,
) -> Result<replay::Op25bdRun, String> {
    let stats = args.work.join("op25bd-stats.json");
    let _ = std::fs::remove_file(&stats);
    let mut cmd = Command::new(op25bd);
    cmd.args(eal_common(&format!(
        "op25b-bench-a{round}-{}",
        std::process::id()
    )))
    .args(vdevs(pcap))
    .arg("--")
    .arg("--config")
    .arg(config)
    .arg("--stats-json")
    .arg(&stats)
    .arg("--latency");
    let (status, output) = supervise(
        cmd,
        // The plain start line, or the structured log's (op25bd with the control crate).
        &["op25bd: running", " running config="],
        args.secs,
        "TERM",
        "op25bd",
    )?;
    let log = args.work.join("op25bd.log");
    let _ = std::fs::write(&log, &output);
    if !status.success() {
        return Err(format!(
            "op25bd exited with {status}; its output is in {}",
            log.display()
        ));
    }
    let text = std::fs::read_to_string(&stats).map_err(|e| {
        format!(
            "op25bd wrote no stats ({e}); its output is in {}",
            log.display()
        )
    })?;
    replay::parse_op25bd_stats(&text).map_err(|e| format!("{}: {e}", stats.display()))
}

fn run_testpmd(args: &Args, pcap: &Path, round: usize) -> Result<replay::TestpmdRun, String> {
    // Line-buffered stdout (stdbuf), so the first statistics period is seen
    // when it is printed and both programs run `secs` after they are up.
    let mut cmd = Command::new("stdbuf");
    cmd.arg("-oL")
        .arg(&args.testpmd)
        .args(eal_common(&format!(
            "op25b-bench-b{round}-{}",
            std::process::id()
        )))
        .args(vdevs(pcap))
        .args([
            "--",
            "--forward-mode=io",
            "--auto-start",
            "--stats-period",
            "1",
        ]);
    let (status, output) = supervise(cmd, &["Port statistics"], args.secs, "INT", "dpdk-testpmd")?;
    let log = args.work.join("testpmd.log");
    let _ = std::fs::write(&log, &output);
    let run = replay::parse_testpmd(&output, 0);
    if run.rx_pps.len() < 2 {
        return Err(format!(
            "dpdk-testpmd ({status}) printed {} statistics periods; its output is in {}",
            run.rx_pps.len(),
            log.display()
        ));
    }
    Ok(run)
}

fn run_to_end(mut cmd: Command, what: &str, limit: Duration) -> Result<(), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let status = wait_limited(&mut child, limit, what)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn command_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine_info() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|x| x.1.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")?
                    .split_whitespace()
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
        })
        .unwrap_or(0);
    json!({
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "kernel": command_line("uname", &["-r"]),
        "dpdk": command_line("pkg-config", &["--modversion", "libdpdk"]),
        "rustc": command_line("rustc", &["--version"]),
        "commit": command_line("git", &["rev-parse", "--short", "HEAD"]),
        "date_utc": command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        "load_start": loadavg(),
    })
}

fn compose(
    args: &Args,
    replay_mixes: &serde_json::Map<String, Value>,
    dp: &Value,
    lpm: &Value,
    machine: Value,
    elapsed_s: f64,
) -> Result<Value, String> {
    let head = replay_mixes
        .get(Sizes::Min64.name())
        .ok_or("no 64 B replay result")?;
    let swap_sizes = dp["swap"]["sizes"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or("dp-bench wrote no swap sizes")?;
    let largest = swap_sizes.last().cloned().unwrap_or_default();
    let mut lpm_out = lpm
        .get("lpm")
        .cloned()
        .ok_or("lpm-bench wrote no `lpm` object")?;
    for fam in ["v4", "v6"] {
        if lpm_out.get(fam).is_none() {
            return Err(format!("lpm-bench wrote no `lpm.{fam}`"));
        }
    }
    if let Some(o) = lpm_out.as_object_mut() {
        o.insert(
            "method".into(),
            json!("lpm-bench: same tables and keys on both sides, bulk lookups in bursts of 64, alternate rounds, medians (bench/LPM.md)"),
        );
    }
    Ok(json!({
        "replay": {
            "op25bd_mpps": head["op25bd_mpps"],
            "testpmd_mpps": head["testpmd_mpps"],
            "ratio": head["ratio"],
            "latency_ns": head["latency_ns"],
            "mix": Sizes::Min64.name(),
            "mixes": replay_mixes,
            "config_prefixes": args.prefixes,
            "rounds": args.rounds,
            "secs_per_run": args.secs,
            "method": "op25bd and dpdk-testpmd (io forwarding) alternate, one at a time, on --no-huge --no-pci -l 0-1 with net_pcap0 (rx_pcap, infinite_rx=1) -> net_null0 (no-rx=1); op25bd with --latency: rx / elapsed_s from --stats-json after SIGTERM; testpmd: mean Rx-pps of port 0 over its 1-s statistics periods after the first; medians over the rounds, ratio = median op25bd / median testpmd",
        },
        "latency": dp["latency"],
        "lpm": lpm_out,
        "swap": {
            "prefixes": largest["prefixes"],
            "compile_ms": largest["compile_ms"],
            "grace_us": largest["grace_us"],
            "publish_ms": largest["publish_ms"],
            "peak_rss_mib": largest["peak_rss_mib"],
            "sizes": swap_sizes,
            "method": dp["swap"]["method"],
        },
        "machine": machine,
        "quick": args.quick,
        "elapsed_s": elapsed_s,
    }))
}

/// Replaces the generated part of the results file at `path` and keeps the
/// rest (`replay::merge_results_md`); written to a temporary file and renamed,
/// so the hand-written part survives a failed write.
fn write_results_md(path: &Path, generated: &str) -> Result<(), String> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(format!(
                "cannot read {} to keep its hand-written part: {e}",
                path.display()
            ))
        }
    };
    let text = replay::merge_results_md(generated, old.as_deref());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// Why a latency phase missed its target (`None` when it did not): dp-bench's
/// note, or, from a JSON without one, the same judgement from the rates.
fn miss_note(p: &Value) -> Option<String> {
    if let Some(note) = p["missed"]["note"].as_str() {
        return Some(note.to_owned());
    }
    if p.get("missed").is_some() {
        return None;
    }
    replay::shortfall(
        p["target_mpps"].as_f64()?,
        p["offered_mpps"].as_f64()?,
        p["received_mpps"].as_f64()?,
    )
    .map(|s| s.to_string())
}

/// One terminal line per latency phase, and one per missed target.
fn latency_lines(lat: &Value) -> Vec<String> {
    let mut out = vec![format!(
        "latency: maximum {} Mpps (unpaced {} Mpps; limited by the {})",
        f(&lat["max_mpps"], 3),
        f(&lat["unpaced_max_mpps"], 3),
        lat["limited_by"].as_str().unwrap_or("?")
    )];
    for p in lat["phases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = p["name"].as_str().unwrap_or("?");
        out.push(format!(
            "latency {name}: {}, offered {}, received {} Mpps; p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            target(&p["target_mpps"], "unpaced", " Mpps"),
            f(&p["offered_mpps"], 3),
            f(&p["received_mpps"], 3),
            p["p50"],
            p["p99"],
            p["p999"],
            p["max"]
        ));
        if let Some(note) = miss_note(p) {
            out.push(format!("latency {name}: {}", capitalised(&note)));
        }
    }
    out
}

/// `s` with its first letter in upper case ("Missed: ..." from "missed: ...").
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A phase's target rate ("target 1.234 Mpps"), or `none` for an unpaced phase.
fn target(v: &Value, none: &str, unit: &str) -> String {
    match v.as_f64() {
        Some(t) if unit.is_empty() => format!("{t:.3}"),
        Some(t) => format!("target {t:.3}{unit}"),
        None => none.to_owned(),
    }
}

fn f(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

fn results_md(doc: &Value) -> String {
    let m = &doc["machine"];
    let mut s = String::new();
    s.push_str("# op25b benchmark results\n\n");
    s.push_str("Written by `make bench` (`op25b-bench`); the numbers are from `bench/results/latest.json`.\n");
    s.push_str(
        "Every throughput figure is a ratio against a baseline measured in the same run on the\n",
    );
    s.push_str("same virtual devices (design: \"Performance method\"); absolute figures move with the load.\n\n");
    s.push_str(&format!(
        "Machine: {} , {} CPUs, {} GiB; Linux {}; DPDK {}; {}; commit {}; {}. Load average {} at the start, {} at the end{}.\n\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cpus"],
        m["memory_gib"],
        m["kernel"].as_str().unwrap_or("?"),
        m["dpdk"].as_str().unwrap_or("?"),
        m["rustc"].as_str().unwrap_or("?"),
        m["commit"].as_str().unwrap_or("?"),
        m["date_utc"].as_str().unwrap_or("?"),
        m["load_start"].as_str().unwrap_or("?"),
        m["load_end"].as_str().unwrap_or("?"),
        if doc["quick"].as_bool() == Some(true) { " (quick run)" } else { "" },
    ));
    let r = &doc["replay"];
    s.push_str("## Replay: op25bd against dpdk-testpmd (net_pcap infinite_rx -> net_null)\n\n");
    s.push_str(&format!(
        "Config of {} prefixes; {} rounds of {} s per side, alternating; medians. Goal: ratio >= 0.95.\n\n",
        r["config_prefixes"], r["rounds"], r["secs_per_run"]
    ));
    s.push_str("Per frame = 1000 / Mpps: testpmd's is the I/O (net_pcap's copy into a fresh mbuf, net_null's free); op25bd's extra is parsing, classification, counters and samples. A ratio of 0.95 leaves op25bd about 5 % of testpmd's time per frame for all of that.\n\n");
    s.push_str("Classify alone = `classify-bench`, over the same frames in bursts of 64, no DPDK, min of its rounds: the worker's path (the fast pass on every frame, `classify_burst` on the frames it leaves: port 25, fragments, odd or malformed headers), and `classify_burst` (full parse, LPM, verdict) on every frame.\n\n");
    s.push_str("| mix | mean frame | op25bd Mpps | testpmd Mpps | ratio | ns/frame op25bd / testpmd | classify alone ns/frame: worker path / full parse of every frame | op25bd p50 / p99 / p99.9 / max latency (ns) |\n");
    s.push_str(
        "|-----|-----------:|------------:|-------------:|------:|------:|------:|----------------------|\n",
    );
    // The ratio the classifier alone allows, per mix, for the line under the table.
    let mut bounds = Vec::new();
    if let Some(mixes) = r["mixes"].as_object() {
        for (name, x) in mixes {
            let l = &x["latency_ns"];
            let per_frame = |v: &Value| {
                v.as_f64()
                    .filter(|m| *m > 0.0)
                    .map(|m| format!("{:.1}", 1000.0 / m))
                    .unwrap_or("n/a".into())
            };
            let c = &r["classify"]["mixes"][name.as_str()];
            s.push_str(&format!(
                "| {name} | {} B | {} | {} | **{}** | {} / {} | {} / {} | {} / {} / {} / {} |\n",
                f(&x["mean_frame_bytes"], 0),
                f(&x["op25bd_mpps"], 2),
                f(&x["testpmd_mpps"], 2),
                f(&x["ratio"], 3),
                per_frame(&x["op25bd_mpps"]),
                per_frame(&x["testpmd_mpps"]),
                f(&c["worker_ns_per_frame_min"], 1),
                f(&c["ns_per_frame_min"], 1),
                l["p50"],
                l["p99"],
                l["p999"],
                l["max"]
            ));
            let io = x["testpmd_mpps"]
                .as_f64()
                .filter(|m| *m > 0.0)
                .map(|m| 1000.0 / m);
            if let (Some(io), Some(classify)) = (io, c["worker_ns_per_frame_min"].as_f64()) {
                bounds.push(format!(
                    "{name} {:.2} = {io:.1} / ({io:.1} + {classify:.1}), where 0.95 would leave {:.1} ns",
                    io / (io + classify),
                    io / 0.95 - io
                ));
            }
        }
    }
    if !bounds.is_empty() {
        s.push_str(&format!(
            "\nThe ratio the classifier alone allows: were op25bd's I/O and loop exactly testpmd's, \
             the worker path's own cost (measured without I/O, frames in cache) would still hold it to \
             testpmd ns / (testpmd ns + worker path ns): {}. \
             On these virtual devices testpmd's whole cost per frame is net_pcap's copy and net_null's free, \
             so a ratio of 0.95 leaves about 5 % of that for all of classification.\n",
            bounds.join("; ")
        ));
    }
    s.push_str("\n![throughput per mix](results/throughput.png)\n\n");
    let lat = &doc["latency"];
    s.push_str("## Latency: per-burst software residence time (dp-bench)\n\n");
    s.push_str(&format!(
        "Access port: a ring pair ({} slots) fed by a TSC-paced injector on lcore 0; core port: net_null (the worker frees what it forwards, as it reaps a NIC's transmit completions; the frames come from the injector's mempool, so those frees cross lcores); op25b's worker loop on lcore 1; {} mix, config of {} prefixes. \
         Maximum {} Mpps (limited by the {}): what the rig sustained paced at its unpaced maximum ({} Mpps); \
         the loads are fractions of it. Offered = what the injector put on the access ring (refused frames included), \
         received = what the worker took in; a load more than {} % below its target is marked missed. \
         CPU = the share of the phase the worker's thread had a CPU (other processes share the cores). \
         Residence = rx_burst returned -> last tx_burst done.\n\n",
        lat["ring"],
        lat["mix"].as_str().unwrap_or("?"),
        lat["prefixes"],
        f(&lat["max_mpps"], 3),
        lat["limited_by"].as_str().unwrap_or("?"),
        f(&lat["unpaced_max_mpps"], 3),
        lat["miss_tolerance"].as_f64().map_or("5".into(), |t| format!("{:.0}", t * 100.0)),
    ));
    s.push_str("| load | target Mpps | offered Mpps | received Mpps | refused | worker CPU | mean burst | p50 ns | p99 ns | p99.9 ns | max ns | swaps | grace p50 / max us |\n");
    s.push_str("|------|-----------:|-------------:|--------------:|--------:|-----------:|-----------:|-------:|-------:|---------:|-------:|------:|------------------|\n");
    let mut notes = Vec::new();
    let pct = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{:.1} %", 100.0 * x))
            .unwrap_or_else(|| "n/a".into())
    };
    for p in lat["phases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = p["name"].as_str().unwrap_or("?");
        let swaps = p["swaps"].as_u64().unwrap_or(0);
        let note = miss_note(p);
        s.push_str(&format!(
            "| {name}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            if note.is_some() { " **(missed)**" } else { "" },
            target(&p["target_mpps"], "unpaced", ""),
            f(&p["offered_mpps"], 3),
            f(&p["received_mpps"], 3),
            pct(&p["refused_share"]),
            pct(&p["worker_cpu_share"]),
            f(&p["mean_burst"], 1),
            p["p50"],
            p["p99"],
            p["p999"],
            p["max"],
            swaps,
            if swaps > 0 {
                format!("{} / {}", p["grace_us_p50"], p["grace_us_max"])
            } else {
                "-".into()
            }
        ));
        if let Some(note) = note {
            notes.push(format!("- **{name}**: {note}.\n"));
        }
    }
    if !notes.is_empty() {
        s.push_str("\nPhases that missed their target load (their figures are at the load they reached, not the one named):\n\n");
        for n in notes {
            s.push_str(&n);
        }
    }
    s.push_str("\n![latency CDF](results/latency_cdf.png)\n\n");
    s.push_str(
        "## LPM: ours against DPDK rte_fib / rte_fib6 (lpm-bench, same tables and keys)\n\n",
    );
    s.push_str("Next hops as op25b stores them (2-byte pool ids; `rte_fib6` needs 4 bytes for its tbl8 indices); bulk lookups in bursts of 64, the two sides alternating; ratio = ours / rte_fib of the medians, paired = median of the per-round ratios. Design steps, the layout per table size and the huge pages: `bench/LPM.md`.\n\n");
    s.push_str("| family | prefixes | keys | next hop bytes (ours / DPDK) | ours Mlps | rte_fib Mlps | ratio | paired | ours MiB | rte_fib MiB |\n");
    s.push_str("|--------|---------:|-----:|------:|----------:|-------------:|------:|------:|---------:|------------:|\n");
    for fam in ["v4", "v6"] {
        let x = &doc["lpm"][fam];
        let mib = |v: &Value| {
            v.as_f64()
                .map(|b| format!("{:.1}", b / 1048576.0))
                .unwrap_or("n/a".into())
        };
        // lpm-bench reports DPDK's nh_size; ours is the run's width, which its IPv4
        // side shares with DPDK (rte_fib6 stays at 4 bytes with 2-byte runs).
        let ours_nh = &doc["lpm"]["v4"]["next_hop_bytes"];
        s.push_str(&format!(
            "| {fam} | {} | {} | {} / {} | {} | {} | **{}** | {} | {} | {} |\n",
            x["prefixes"],
            x["keys"],
            ours_nh,
            x["next_hop_bytes"],
            f(&x["ours_mlps"], 1),
            f(&x["rte_fib_mlps"], 1),
            f(&x["ratio"], 2),
            f(&x["ratio_paired"], 2),
            mib(&x["ours_bytes"]),
            mib(&x["rte_fib_bytes"])
        ));
    }
    s.push_str("\n## Swap cost (dp-bench)\n\n");
    s.push_str("Load + compile = `policy::load_str` (YAML parse, validation, compilation); publish = `Dataplane::publish` \
                on a running dataplane (pointer swap, QSBR grace period, old generation freed); peak = the process's \
                VmHWM during load + publish, reset before each size.\n\n");
    s.push_str("| prefixes | load + compile ms | publish ms | grace us | RSS before MiB | peak RSS MiB | RSS after MiB |\n");
    s.push_str("|---------:|------------------:|-----------:|---------:|---------------:|-------------:|--------------:|\n");
    if let Some(sizes) = doc["swap"]["sizes"].as_array() {
        for x in sizes {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                x["prefixes"],
                f(&x["compile_ms"], 1),
                f(&x["publish_ms"], 2),
                x["grace_us"],
                f(&x["rss_before_mib"], 0),
                f(&x["peak_rss_mib"], 0),
                f(&x["rss_after_mib"], 0)
            ));
        }
    }
    s.push_str(&format!(
        "\nThe whole run took {} s. Reproduce: `make bench` (or `target/release/op25b-bench --help`).\n",
        f(&doc["elapsed_s"], 0)
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(name: &str, target: Option<f64>, offered: f64, received: f64) -> Value {
        json!({
            "name": name, "target_mpps": target, "offered_mpps": offered,
            "received_mpps": received, "refused_share": 0.25, "worker_cpu_share": 0.3,
            "mean_burst": 12.0, "p50": 200, "p99": 900, "p999": 5000, "max": 90000, "swaps": 0,
        })
    }

    fn doc(phases: Vec<Value>) -> Value {
        json!({
            "machine": {"cpu": "test CPU", "cpus": 2},
            "replay": {"mixes": {}},
            "latency": {"ring": 65536, "mix": "64B", "prefixes": 10, "max_mpps": 2.0,
                        "unpaced_max_mpps": 2.1, "limited_by": "worker", "miss_tolerance": 0.05,
                        "phases": phases},
            "lpm": {}, "swap": {"sizes": []}, "elapsed_s": 1.0,
        })
    }

    #[test]
    fn a_missed_load_is_marked_in_the_table_and_explained_below_it() {
        let mut missed = phase("50%", Some(1.0), 1.0, 0.6);
        missed["missed"] = json!({"note": "missed: achieved 0.600 of target 1.000 Mpps (60 %), limited by the worker (which had its CPU 30 % of the phase)"});
        let md = results_md(&doc(vec![
            phase("max, unpaced", None, 3.0, 2.1),
            phase("10%", Some(0.2), 0.2, 0.199),
            missed,
        ]));
        assert!(
            md.contains("| max, unpaced | unpaced | 3.000 | 2.100 | 25.0 % | 30.0 % |"),
            "{md}"
        );
        assert!(md.contains("| 10% | 0.200 | 0.200 | 0.199 |"), "{md}");
        assert!(
            md.contains("| 50% **(missed)** | 1.000 | 1.000 | 0.600 |"),
            "{md}"
        );
        assert!(md.contains("- **50%**: missed: achieved 0.600 of target 1.000 Mpps (60 %), limited by the worker (which had its CPU 30 % of the phase).\n"), "{md}");
        assert!(!md.contains("10% **(missed)**"));
    }

    #[test]
    fn a_phase_without_a_verdict_is_judged_from_its_rates() {
        let p = phase("90%", Some(4.0), 3.0, 2.9);
        let note = miss_note(&p).unwrap();
        assert!(note.contains("limited by the injector"), "{note}");
        let ok =
            json!({"target_mpps": 1.0, "offered_mpps": 1.0, "received_mpps": 1.0, "missed": null});
        assert_eq!(miss_note(&ok), None);
        let lines = latency_lines(&doc(vec![p])["latency"]);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("latency 90%: Missed: achieved 2.900")),
            "{lines:?}"
        );
    }

    #[test]
    fn the_ratio_the_classifier_allows_is_worked_out_from_the_same_run() {
        let mut d = doc(vec![phase("10%", Some(0.2), 0.2, 0.199)]);
        d["replay"]["mixes"]["64B"] = json!({"op25bd_mpps": 25.0, "testpmd_mpps": 40.0, "ratio": 0.625,
            "mean_frame_bytes": 65.0, "latency_ns": {"p50": 1, "p99": 2, "p999": 3, "max": 4}});
        d["replay"]["classify"] =
            json!({"mixes": {"64B": {"ns_per_frame_min": 12.0, "worker_ns_per_frame_min": 6.3}}});
        let md = results_md(&d);
        assert!(
            md.contains("| 64B | 65 B | 25.00 | 40.00 | **0.625** | 40.0 / 25.0 | 6.3 / 12.0 |"),
            "{md}"
        );
        assert!(
            md.contains("64B 0.80 = 25.0 / (25.0 + 6.3), where 0.95 would leave 1.3 ns"),
            "{md}"
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("op25b-bench-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writing_the_results_keeps_the_hand_written_part_and_creates_a_missing_file() {
        let dir = scratch("md");
        let path = dir.join("RESULTS.md");
        write_results_md(&path, "# op25b benchmark results\n\nfirst\n").unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(
            first.ends_with(&format!("{}\n", replay::GENERATED_END)),
            "{first}"
        );
        let hand = "\n## Robustness\n\nby hand, kept\n";
        std::fs::write(&path, format!("{first}{hand}")).unwrap();
        write_results_md(&path, "# op25b benchmark results\n\nsecond\n").unwrap();
        let second = std::fs::read_to_string(&path).unwrap();
        assert!(
            second.contains("second") && !second.contains("first"),
            "{second}"
        );
        assert!(second.ends_with(hand), "{second}");
        assert!(!dir.join("RESULTS.md.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unreadable_results_file_is_an_error_not_an_overwrite() {
        let dir = scratch("dir");
        // A directory where the file should be: reading it fails, nothing is written.
        let err = write_results_md(&dir, "# op25b benchmark results\n").unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
        assert!(dir.is_dir());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_latency_benchmarks_get_their_own_file_prefix() {
        let eal = bench_eal("dp", "0-1", 512);
        let prefix = format!("--file-prefix=op25b-bench-dp-{}", std::process::id());
        assert!(eal.contains(&prefix), "{eal:?}");
        assert!(eal.contains(&"--no-shconf".to_owned()));
        assert_eq!(capitalised("missed: x"), "Missed: x");
        assert_eq!(capitalised(""), "");
    }
}
