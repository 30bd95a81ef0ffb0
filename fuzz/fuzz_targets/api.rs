//! The control plane's HTTP API (`crates/control`, `--api`) against arbitrary
//! requests, over real sockets, with the model dataplane of the control
//! crate's own tests. By the input's first octet:
//!
//! - `PUT /v1/config` with the rest as the body: 200 exactly when
//!   `policy::load_str` accepts it (and one publication happened), else 422
//!   (and nothing was published);
//! - `GET` of the rest as the request target: any answer but a 5xx (503 is
//!   `/healthz`'s "a worker stalled");
//! - the rest as a raw request: the server answers with a status line or
//!   closes, never a 500, and never hangs once the client has finished.
//!
//! Every 64 inputs the server must still answer `GET /healthz`.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run api corpus/api`
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/control/tests/common/mod.rs"]
mod common;

use common::Lab;

/// Largest accepted body: small, so that 413 is reached too.
const MAX_BODY: usize = 8 * 1024;

fn lab() -> &'static Mutex<Lab> {
    static LAB: OnceLock<Mutex<Lab>> = OnceLock::new();
    LAB.get_or_init(|| Mutex::new(Lab::start(None, MAX_BODY)))
}

/// Sends `raw`, closes the sending side, returns everything the server sent.
fn exchange(lab: &Lab, raw: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(lab.addr).expect("the API accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer and close before reading everything (413, 400).
    let _ = s.write_all(raw);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("no answer and no close within 10 s: {e} (sent {raw:?})"),
    }
    out
}

/// The status code of an answer, if it starts with a status line.
fn status(answer: &[u8]) -> Option<u16> {
    if answer.is_empty() {
        return None; // closed without an answer
    }
    let line = answer.split(|b| *b == b'\r').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split(' ');
    let version = parts.next()?;
    assert!(version.starts_with("HTTP/1."), "bad status line {text:?}");
    parts.next()?.parse().ok()
}

/// Percent-encodes what may not appear raw in a request target.
fn target(bytes: &[u8]) -> String {
    let mut t = String::from("/");
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'%' {
            t.push(b as char);
        } else {
            t.push_str(&format!("%{b:02X}"));
        }
    }
    t
}

fuzz_target!(|data: &[u8]| {
    static N: AtomicU64 = AtomicU64::new(0);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let lab = lab().lock().unwrap();
    match mode % 4 {
        0 => {
            let before = lab.published.lock().unwrap().len();
            let mut req = format!(
                "PUT /v1/config HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\
                 Content-Type: application/yaml\r\nContent-Length: {}\r\n\r\n",
                rest.len()
            )
            .into_bytes();
            req.extend_from_slice(rest);
            let answer = exchange(&lab, &req);
            let code = status(&answer).expect("a PUT gets an answer");
            let published = lab.published.lock().unwrap().len() - before;
            if rest.len() > MAX_BODY {
                assert_eq!((code, published), (413, 0));
            } else if policy::load_str("fuzz.yaml", rest).is_ok() {
                assert_eq!((code, published), (200, 1), "a valid config");
            } else {
                assert_eq!((code, published), (422, 0), "an invalid config");
            }
        }
        1 => {
            let req = format!(
                "GET {} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
                target(rest)
            );
            let answer = exchange(&lab, req.as_bytes());
            let code = status(&answer).expect("a GET gets an answer");
            assert!(code < 500 || code == 503, "{code} for {req:?}");
        }
        _ => {
            let answer = exchange(&lab, rest);
            if let Some(code) = status(&answer) {
                assert!(code < 500 || code == 503, "{code} for {rest:?}");
            }
        }
    }
    if N.fetch_add(1, Ordering::Relaxed) % 64 == 0 {
        let answer = exchange(
            &lab,
            b"GET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
        );
        assert!(
            matches!(status(&answer), Some(200 | 503)),
            "the API stopped answering"
        );
    }
});
