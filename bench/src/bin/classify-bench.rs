//! The classifier's cost per frame, without DPDK: `classify_burst` over the
//! benchmark mixes in bursts of 64, on one core, timed in rounds (min and
//! median reported). It tells how much of a worker's time per frame is
//! classification, next to the I/O that `op25b-bench`'s replay measures
//! against `dpdk-testpmd`.
//!
//! ```text
//! target/release/classify-bench [--prefixes 100000] [--frames 4096] [--rounds 30]
//! ```

use std::time::Instant;

use clap::Parser;
use classify::{classify_burst, Direction, Parsed, Verdict, MAX_BURST};
use op25b_bench::mix::{self, MixSpec, Sizes};

#[derive(Parser)]
#[command(
    name = "classify-bench",
    about = "Nanoseconds per frame of classify_burst (parse, LPM, verdict) over the benchmark mixes, without DPDK"
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
        let mut run = || {
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
        };
        run();
        let mut ns: Vec<f64> = (0..args.rounds)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_nanos() as f64 / frames.len() as f64
            })
            .collect();
        ns.sort_by(f64::total_cmp);
        println!(
            "{:5} {} frames, {} prefixes: classify_burst {:.1} ns/frame min, {:.1} median ({} rounds; {:.1} % forwarded)",
            sizes.name(),
            frames.len(),
            args.prefixes,
            ns[0],
            ns[ns.len() / 2],
            args.rounds,
            100.0 * forwarded as f64 / (frames.len() * (args.rounds + 1)) as f64
        );
        results.insert(
            sizes.name().to_owned(),
            serde_json::json!({
                "ns_per_frame_min": ns[0],
                "ns_per_frame_median": ns[ns.len() / 2],
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
                "method": "classify_burst (parse, LPM, verdict) over the mix's frames in bursts of 64 on one core, no DPDK; min and median of the rounds",
            }
        });
        if let Err(e) = std::fs::write(path, format!("{doc:#}\n")) {
            eprintln!("classify-bench: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
