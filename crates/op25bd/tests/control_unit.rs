//! `configs/op25bd.service` stays in step with the command line: every option
//! its ExecStart gives op25bd is accepted, and systemd finds the unit valid.

mod common;

use common::*;

fn unit() -> String {
    std::fs::read_to_string(root().join("configs/op25bd.service")).unwrap()
}

/// ExecStart with its continuation lines joined.
fn exec_start(unit: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn the_units_options_are_all_accepted_by_op25bd() {
    let words = exec_start(&unit());
    assert_eq!(words[0], "/usr/sbin/op25bd");
    let sep = words
        .iter()
        .position(|w| w == "--")
        .expect("-- in ExecStart");
    // The application options, with the environment-supplied ones empty and
    // the config pointed at a file that does not exist: a usage error would
    // exit 2; getting as far as reading the config (exit 1) proves the options parse.
    let s = Scratch::new("unit");
    let mut args: Vec<String> = vec!["--".into()];
    let mut it = words[sep + 1..].iter().filter(|w| !w.starts_with('$'));
    while let Some(w) = it.next() {
        args.push(w.clone());
        if w == "--config" {
            it.next();
            args.push(s.path("missing.yaml").display().to_string());
        }
    }
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("missing.yaml"),
        "{}",
        text(&o)
    );
}

#[test]
fn systemd_finds_the_unit_valid() {
    let Ok(st) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("SKIPPED: systemd-analyze is not installed");
        return;
    };
    assert!(st.status.success());
    // Point the unit at the binaries just built (verify checks they exist).
    let s = Scratch::new("unitverify");
    let dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let text_unit = unit().replace("/usr/sbin", &dir);
    let path = s.write("op25bd.service", &text_unit);
    let o = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    // op25bctl is another package's binary; it may not be built in this run.
    let relevant: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("op25bctl is not executable"))
        .collect();
    assert!(relevant.is_empty(), "{err}");
}
