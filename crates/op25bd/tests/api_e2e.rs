//! The push lab (`e2e/push/run.sh`): in network namespaces, a push through the
//! API makes a real TCP client's new connection to port 25 get refused within
//! a second, while long-lived TCP sessions through op25bd survive 200 swaps.
//! Needs root; skipped LOUDLY elsewhere.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The script's exit status for "skipped" (automake's convention).
const EXIT_SKIP: i32 = 77;
/// The lab takes a few seconds; this only guards against a hung run.
const DEADLINE: Duration = Duration::from_secs(180);

fn loud(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{}\n{msg}\n{}\n", "#".repeat(72), "#".repeat(72));
}

#[test]
fn a_push_changes_what_a_tcp_client_sees_and_long_sessions_survive_200_swaps() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/push/run.sh");
    let dir = std::env::temp_dir().join(format!("op25b-push-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new("bash")
        .arg(&script)
        .arg("--op25bd")
        .arg(env!("CARGO_BIN_EXE_op25bd"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("bash e2e/push/run.sh");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > DEADLINE {
            // The script's EXIT trap removes its namespaces on SIGTERM.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            panic!("e2e/push/run.sh did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    match status.code() {
        Some(0) => {
            assert!(stdout.contains("0 failed"), "{stdout}");
            assert!(stdout.contains("refused (RST)"), "{stdout}");
            assert!(stdout.contains("survived 201 swaps"), "{stdout}");
        }
        Some(EXIT_SKIP) => loud(&format!(
            "SKIPPED: the push lab (e2e/push/run.sh) could not run here:\n{}",
            stderr.trim()
        )),
        _ => panic!("e2e/push/run.sh failed ({status}):\n{stdout}\n--- stderr\n{stderr}"),
    }
}
