//! `op25b-gen`: writes the deterministic pcap fixtures.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use op25b_bench::fixtures::{self, Side};
use op25b_bench::pcap;

/// Writes deterministic pcap fixtures (same seed, same bytes, on every machine).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Directory to write into.
    #[arg(long, default_value = "pcap-fixtures")]
    out: PathBuf,
    /// Frames per side in the mixed fixture.
    #[arg(long, default_value_t = 300)]
    frames: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 25)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("op25b-gen: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let sets = [
        (
            "mixed-access.pcap",
            fixtures::mixed(args.seed, args.frames, Side::Access),
        ),
        (
            "mixed-core.pcap",
            fixtures::mixed(args.seed + 1, args.frames, Side::Core),
        ),
    ];
    // The labelled fixtures: frames, the verdict each must get, and their config.
    for (side, seed, stem) in [
        (Side::Access, args.seed + 2, "verdicts-access"),
        (Side::Core, args.seed + 3, "verdicts-core"),
    ] {
        let labelled = fixtures::labelled(seed, args.frames, side);
        let frames: Vec<Vec<u8>> = labelled.iter().map(|(f, _)| f.clone()).collect();
        let labels: String = labelled
            .iter()
            .map(|(_, l)| format!("{}\n", l.as_str()))
            .collect();
        let pcap_path = args.out.join(format!("{stem}.pcap"));
        let txt_path = args.out.join(format!("{stem}.txt"));
        if let Err(e) =
            pcap::write_file(&pcap_path, &frames).and_then(|_| std::fs::write(&txt_path, labels))
        {
            eprintln!("op25b-gen: cannot write {stem}: {e}");
            return ExitCode::FAILURE;
        }
        println!(
            "wrote {} and {} ({} frames)",
            pcap_path.display(),
            txt_path.display(),
            frames.len()
        );
    }
    let cfg = args.out.join("verdicts.yaml");
    if let Err(e) = std::fs::write(&cfg, fixtures::VERDICTS_CONFIG) {
        eprintln!("op25b-gen: cannot write {}: {e}", cfg.display());
        return ExitCode::FAILURE;
    }
    for (name, frames) in sets {
        let path = args.out.join(name);
        if let Err(e) = pcap::write_file(&path, &frames) {
            eprintln!("op25b-gen: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {} ({} frames)", path.display(), frames.len());
    }
    ExitCode::SUCCESS
}
