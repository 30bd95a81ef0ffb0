//! The classifier's cost per frame, without DPDK, over the benchmark mixes in
//! bursts of 64 on one core, timed in rounds (min and median reported), two
//! ways: `classify_burst` on every frame (the full parse, LPM and verdict),
//! and what a worker does: the fast pass (`classify::passes`) on every frame
//! and `classify_burst` on the frames it leaves. It tells how much of a
//! worker's time per frame is classification, next to the I/O that
//! `op25b-bench`'s replay measures against `dpdk-testpmd`.
//!
//! ```text
//! target/release/classify-bench [--prefixes 100000] [--frames 4096] [--rounds 30]
//! ```

use std::time::Instant;

use clap::Parser;
use classify::{classify_burst, passes, Direction, Parsed, Verdict, MAX_BURST};
use op25b_bench::mix::{self, MixSpec, Sizes};

#[derive(Parser)]
#[command(
    name = "classify-bench",
    about = "Nanoseconds per frame of classify_burst (parse, LPM, verdict), and of the worker's fast pass plus classify_burst on the rest, over the benchmark mixes, without DPDK"
)]
struct Args {
    /// Prefixes in the config (as op25b-bench's replay).
    #[arg(long, default_value_t = 100_000)]
    prefixes: usize,
    /// Frames per mix.
    #[arg(long, default_value_t = 4096)]
    frames: usize,
    /// Timed rounds over all frames.
    #[arg(long, default_value_t = 30)]
    rounds: usize,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 25)]
    seed: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() {
    let args = Args::parse();
    if args.frames == 0 || args.rounds == 0 || args.prefixes == 0 {
        eprintln!("classify-bench: --frames, --rounds and --prefixes must be at least 1");
        std::process::exit(2);
    }
    let mut results = serde_json::Map::new();
    for sizes in [Sizes::Min64, Sizes::Imix] {
        let spec = MixSpec::isp(sizes, args.prefixes);
        let yaml = spec.config_yaml();
        let tables = match policy::load_str("bench.yaml", yaml.as_bytes()) {
            Ok(loaded) => loaded.tables,
            Err(e) => {
                eprintln!("classify-bench: the generated config was rejected: {e}");
                std::process::exit(1);
            }
        };
        let frames: Vec<Vec<u8>> = mix::frames(&spec, args.seed, args.frames)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        let views: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let mut parsed = [Parsed::EMPTY; MAX_BURST];
        let mut verdicts = [Verdict::EMPTY; MAX_BURST];
        let mut forwarded = 0usize;
        let full = time_rounds(args.rounds, frames.len(), || {
            for burst in views.chunks(MAX_BURST) {
                let n = classify_burst(
                    &tables,
                    Direction::Outbound,
                    burst,
                    &mut parsed,
                    &mut verdicts,
                );
                forwarded += verdicts[..n].iter().filter(|v| v.is_forwarded()).count();
            }
        });
        let mut fast_forwarded = 0usize;
        let mut slow_frames = 0usize;
        let worker = time_rounds(args.rounds, frames.len(), || {
            for burst in views.chunks(MAX_BURST) {
                let mut slow: [&[u8]; MAX_BURST] = [&[]; MAX_BURST];
                let mut k = 0;
                for frame in burst {
                    if passes(&tables, Direction::Outbound, frame) {
                        fast_forwarded += 1;
                    } else {
                        slow[k] = frame;
                        k += 1;
                    }
                }
                slow_frames += k;
                let n = classify_burst(
                    &tables,
                    Direction::Outbound,
                    &slow[..k],
                    &mut parsed,
                    &mut verdicts,
                );
                fast_forwarded += verdicts[..n].iter().filter(|v| v.is_forwarded()).count();
            }
        });
        if fast_forwarded != forwarded {
            eprintln!(
                "classify-bench: the fast pass changed what is forwarded ({fast_forwarded} against {forwarded})"
            );
            std::process::exit(1);
        }
        let runs = frames.len() * (args.rounds + 1);
        let slow_percent = 100.0 * slow_frames as f64 / runs as f64;
        println!(
            "{:5} {} frames, {} prefixes: classify_burst {:.1} ns/frame min, {:.1} median; fast pass + classify_burst on the rest ({:.1} % of frames) {:.1} min, {:.1} median ({} rounds; {:.1} % forwarded)",
            sizes.name(),
            frames.len(),
            args.prefixes,
            full.0,
            full.1,
            slow_percent,
            worker.0,
            worker.1,
            args.rounds,
            100.0 * forwarded as f64 / runs as f64
        );
        results.insert(
            sizes.name().to_owned(),
            serde_json::json!({
                "ns_per_frame_min": full.0,
                "ns_per_frame_median": full.1,
                "worker_ns_per_frame_min": worker.0,
                "worker_ns_per_frame_median": worker.1,
                "full_path_percent": slow_percent,
                "frames": frames.len(),
                "rounds": args.rounds,
            }),
        );
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "classify": {
                "prefixes": args.prefixes,
                "burst": MAX_BURST,
                "mixes": results,
                "method": "classify_burst (parse, LPM, verdict) over the mix's frames in bursts of 64 on one core, no DPDK; worker_*: the fast pass (classify::passes) on every frame and classify_burst on the rest, as a worker does; min and median of the rounds",
            }
        });
        if let Err(e) = std::fs::write(path, format!("{doc:#}\n")) {
            eprintln!("classify-bench: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

/// One untimed warm-up run, then `rounds` timed runs of `run` over `frames`
/// frames: (min, median) nanoseconds per frame (the median of an even count is
/// the upper middle round).
fn time_rounds(rounds: usize, frames: usize, mut run: impl FnMut()) -> (f64, f64) {
    run();
    let mut ns: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_nanos() as f64 / frames as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    (ns[0], ns[ns.len() / 2])
}
