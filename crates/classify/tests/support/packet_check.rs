//! The fuzz property, shared by `fuzz/fuzz_targets/packet.rs` and the
//! corpus-replay test: parse + classify (both directions, burst and
//! reference) + build both replies, for any bytes.

use super::config::CONFIG;
use super::reference::check_reply;
use classify::reply::{build_reply, reply_allowed, reply_len, MAX_REPLY_LEN};
use classify::{
    classify_burst, classify_one, parse, passes, Direction, ForwardReason, Outcome, Parsed,
    ReplyKind, Verdict,
};
use std::sync::OnceLock;

fn tables() -> &'static policy::Tables {
    static TABLES: OnceLock<policy::Tables> = OnceLock::new();
    TABLES.get_or_init(|| super::config::tables(CONFIG))
}

/// Panics (with a description) when any invariant fails for `frame`.
pub fn check_packet(frame: &[u8]) {
    let tables = tables();
    let parsed = parse(frame);
    for dir in [Direction::Outbound, Direction::Inbound] {
        let reference = classify_one(tables, dir, frame);
        let mut p = [Parsed::EMPTY; 2];
        let mut v = [Verdict::EMPTY; 2];
        classify_burst(tables, dir, &[frame, frame], &mut p, &mut v);
        assert_eq!(v, [reference; 2], "burst and reference disagree");
        assert_eq!(p, [parsed; 2]);
        if parsed.outcome == Outcome::Tcp {
            let d = tables.decide(
                dir,
                parsed.src_ip().unwrap(),
                parsed.tcp.src_port,
                parsed.dst_ip().unwrap(),
                parsed.tcp.dst_port,
            );
            assert_eq!(
                reference.decision(),
                Some(d),
                "verdict disagrees with decide()"
            );
        }
        if let Verdict::Reply { .. } = reference {
            assert!(reply_allowed(&parsed).is_ok());
        }
        // The fast pass only ever short-cuts an uncounted forward.
        if passes(tables, dir, frame) {
            assert!(
                matches!(reference, Verdict::Forward(r) if !matches!(r, ForwardReason::Unparsed(_))),
                "fast pass on a frame the full path gives {reference:?}"
            );
        }
    }
    let mut out = vec![0xa5u8; MAX_REPLY_LEN + 16];
    for kind in [ReplyKind::Rst, ReplyKind::Icmp] {
        let expected = reply_len(kind, frame, &parsed);
        match build_reply(kind, frame, &parsed, &mut out[..MAX_REPLY_LEN]) {
            Some(len) => {
                assert_eq!(Some(len), expected);
                assert!(len <= MAX_REPLY_LEN);
                assert!(
                    out[MAX_REPLY_LEN..].iter().all(|b| *b == 0xa5),
                    "wrote past the buffer"
                );
                if let Err(e) = check_reply(&out[..len]) {
                    panic!("{kind:?} reply does not re-parse: {e}");
                }
                let back = parse(&out[..len]);
                assert_eq!(back.src, parsed.dst);
                assert_eq!(back.dst, parsed.src);
                assert_eq!(back.vlans(), parsed.vlans());
                assert_eq!(back.pppoe_session, parsed.pppoe_session);
                // A buffer one octet short gets nothing.
                assert_eq!(build_reply(kind, frame, &parsed, &mut out[..len - 1]), None);
            }
            None => assert!(
                reply_allowed(&parsed).is_err(),
                "an allowed {kind:?} reply failed to build"
            ),
        }
    }
}
