#!/usr/bin/env python3
"""op25b soak: replay at full rate through op25bd for minutes while the config
is pushed every 100 ms (good configs and random bad ones), then check that
nothing leaked, nothing stalled and every counter adds up.

Pushes go through SIGHUP with the config file replaced atomically (rename);
when op25bd has the push API (`--api`), every other push is a `PUT /v1/config`
instead. Liveness and throughput are sampled once a second through DPDK's
telemetry socket (`/ethdev/stats`), resident memory through /proc/PID/status.

Usage: soak.py --bin target/release/op25bd [--seconds 180] [--out FILE]
Exit status: 0 every check passed, 1 a check failed, 2 the soak could not run.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_CONFIGS = [
    ROOT / "configs/example.yaml",
    ROOT / "pcap-fixtures/verdicts.yaml",
    ROOT / "configs/staged-rollout.yaml",
    ROOT / "configs/ipv6-pppoe.yaml",
    ROOT / "configs/no-relay.yaml",
]
TRAFFIC = {
    "access": ["pcap-fixtures/mixed-access.pcap", "pcap-fixtures/verdicts-access.pcap"],
    "core": ["pcap-fixtures/mixed-core.pcap", "pcap-fixtures/verdicts-core.pcap"],
}
PUSH_INTERVAL_S = 0.1
SAMPLE_INTERVAL_S = 1.0
# Resident memory may settle by this much after the first half (page cache of
# the allocator, lazily touched stacks); a leak per push or per frame is far
# larger over minutes.
RSS_TOLERANCE_KB = 2048
# A SIGHUP push not handled within this long fails the soak (a stalled control loop).
ACK_TIMEOUT_S = 5.0


def log(msg):
    print(f"soak: {msg}", flush=True)


def concat_pcaps(paths, out):
    """Concatenates libpcap files (same link type) into one."""
    header = None
    with open(out, "wb") as w:
        for p in paths:
            data = (ROOT / p).read_bytes()
            if len(data) < 24:
                raise ValueError(f"{p}: not a pcap file")
            if header is None:
                header = data[:24]
                w.write(header)
            elif data[20:24] != header[20:24]:
                raise ValueError(f"{p}: different link type")
            w.write(data[24:])


def bad_config(rng, good_text):
    """A config that must be rejected, built from a good one."""
    kinds = [
        "non-utf8",
        "unknown-key",
        "host-bits",
        "bad-version",
        "unclosed-flow",
        "empty",
        "binary",
        "bad-port",
        "control-char",
    ]
    kind = rng.choice(kinds)
    b = good_text.encode()
    if kind == "non-utf8":
        at = rng.randrange(len(b) + 1)
        return kind, b[:at] + b"\xff\xfe" + b[at:]
    if kind == "unknown-key":
        return kind, b + f"\nzz_{rng.randrange(1 << 30):x}: 1\n".encode()
    if kind == "host-bits":
        return kind, b + b"\nrelays:\n  - name: bad\n    prefixes: [203.0.113.1/24]\n"
    if kind == "bad-version":
        return kind, b.replace(b"version: 1", b"version: 7", 1)
    if kind == "unclosed-flow":
        return kind, b[: rng.randrange(len(b) + 1)] + b"\nblocked_ports: [25,\n"
    if kind == "empty":
        return kind, b""
    if kind == "binary":
        return kind, b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 512)))
    if kind == "bad-port":
        return kind, b + f"\nblocked_ports: [{rng.choice([0, 65536, 587, -1])}]\n".encode()
    at = rng.randrange(len(b) + 1)
    return kind, b[:at] + b"\x1d" + b[at:]


class Telemetry:
    """DPDK telemetry v2 client (one JSON reply per command, SOCK_SEQPACKET)."""

    def __init__(self, prefix):
        self.path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        self.sock = None

    def connect(self, deadline):
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(self.path)
                s.recv(4096)  # the greeting
                self.sock = s
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def query(self, cmd):
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(1 << 16).decode())

    def rx_packets(self, port):
        return self.query(f"/ethdev/stats,{port}")["/ethdev/stats"]["ipackets"]


def is_sighup(line):
    """A log line about a SIGHUP reload: tracing prints the field quoted or bare."""
    return 'origin="sighup"' in line or "origin=sighup" in line


class SighupAcks:
    """Counts the SIGHUP reloads op25bd has logged (published or rejected),
    reading only what was appended since the last call."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.count = 0

    def __call__(self):
        with open(self.path, errors="replace") as f:
            f.seek(self.offset)
            chunk = f.read()
            self.offset = f.tell()
        lines = (self.partial + chunk).split("\n")
        self.partial = lines.pop()
        for l in lines:
            if is_sighup(l) and ("config published" in l or "config rejected" in l):
                self.count += 1
            elif "reloaded" in l or ("reload of" in l and "rejected" in l):
                self.count += 1
        return self.count


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def has_api(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return "--api" in out.stdout


def put_config(addr, body):
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("PUT", "/v1/config", body=body, headers={"Content-Type": "application/yaml"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the op25bd binary (a release build)")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 180)))
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--bad-percent", type=int, default=30, help="share of pushes that are bad")
    ap.add_argument("--out", default=str(ROOT / "soak/results/latest.json"))
    ap.add_argument("--push", choices=["auto", "sighup", "api"], default="auto",
                    help="how to push: auto alternates SIGHUP and the API when op25bd has --api")
    args = ap.parse_args()
    if args.seconds < 10:
        print("soak: --seconds must be at least 10 (two halves of RSS samples)", file=sys.stderr)
        return 2
    if not os.access(args.bin, os.X_OK):
        print(f"soak: {args.bin} is not an executable op25bd", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    api = None
    if args.push in ("auto", "api") and has_api(args.bin):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            api = f"127.0.0.1:{s.getsockname()[1]}"
    elif args.push == "api":
        print("soak: --push api, but this op25bd has no --api", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="op25b-soak-"))
    prefix = f"op25b-soak-{os.getpid()}"
    cfg = work / "op25b.yaml"
    goods = [p.read_text() for p in GOOD_CONFIGS]
    cfg.write_text(goods[0])
    for side, paths in TRAFFIC.items():
        concat_pcaps(paths, work / f"{side}.pcap")
    stats_path = work / "stats.json"
    stderr_path = work / "op25bd.stderr"
    cmd = [
        args.bin, "--no-huge", "--no-pci", "-l", "0-1", "-m", "512", "--file-prefix", prefix,
        "--log-level=*:warning",
        f"--vdev=net_pcap0,rx_pcap={work / 'access.pcap'},infinite_rx=1",
        f"--vdev=net_pcap1,rx_pcap={work / 'core.pcap'},infinite_rx=1",
        "--", "--config", str(cfg), "--stats-json", str(stats_path),
    ]
    if api:
        cmd += ["--api", api]
    log(f"starting {' '.join(cmd)}")
    errf = open(stderr_path, "wb")
    outf = open(work / "op25bd.stdout", "wb")
    proc = subprocess.Popen(cmd, stdout=outf, stderr=errf)
    try:
        return soak(args, rng, api, work, prefix, cfg, goods, stats_path, stderr_path, errf, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def soak(args, rng, api, work, prefix, cfg, goods, stats_path, stderr_path, errf, proc):
    """Pushes and samples until the time is up, stops op25bd, checks, reports."""
    tele = Telemetry(prefix)
    if not tele.connect(time.monotonic() + 20):
        proc.kill()
        proc.wait()
        print(f"soak: op25bd did not come up (telemetry {tele.path}); stderr:\n{stderr_path.read_text()}",
              file=sys.stderr)
        return 2
    time.sleep(1.0)  # let the first bursts and the allocator settle

    sighup_acks = SighupAcks(stderr_path)
    pushes = {"good": 0, "bad": 0, "good_api": 0, "bad_api": 0, "api_unexpected": []}
    bad_kinds = {}
    samples = []  # (t, rss_kb, rx0, rx1)
    t0 = time.monotonic()
    next_push = t0
    next_sample = t0
    n_push = 0
    failures = []
    while True:
        now = time.monotonic()
        if proc.poll() is not None:
            failures.append(f"op25bd exited early with status {proc.returncode}")
            break
        if now - t0 >= args.seconds:
            break
        if now >= next_sample:
            try:
                samples.append((now - t0, rss_kb(proc.pid), tele.rx_packets(0), tele.rx_packets(1)))
            except (OSError, KeyError, ValueError) as e:
                failures.append(f"sampling failed: {e}")
                break
            next_sample += SAMPLE_INTERVAL_S
        if now >= next_push:
            n_push += 1
            bad = rng.randrange(100) < args.bad_percent
            if bad:
                kind, body = bad_config(rng, rng.choice(goods))
                bad_kinds[kind] = bad_kinds.get(kind, 0) + 1
            else:
                body = goods[n_push % len(goods)].encode()
            via_api = api is not None and n_push % 2 == 0
            if via_api:
                try:
                    status = put_config(api, body)
                except OSError as e:
                    failures.append(f"push API: {e}")
                    break
                ok = 200 <= status < 300
                if ok == bad:
                    pushes["api_unexpected"].append({"push": n_push, "bad": bad, "status": status})
                pushes["bad_api" if bad else "good_api"] += 1
            else:
                tmp = work / "op25b.yaml.tmp"
                tmp.write_bytes(body)
                os.replace(tmp, cfg)
                acked = sighup_acks()
                os.kill(proc.pid, signal.SIGHUP)
                # SIGHUPs coalesce: wait until this one is handled, so every
                # push counts (and a control loop that stops answering shows).
                deadline = time.monotonic() + ACK_TIMEOUT_S
                while sighup_acks() == acked and time.monotonic() < deadline:
                    time.sleep(0.002)
                if sighup_acks() == acked:
                    failures.append(f"SIGHUP push {n_push} not handled within {ACK_TIMEOUT_S} s")
                    break
            pushes["bad" if bad else "good"] += 1
            next_push += PUSH_INTERVAL_S
        time.sleep(max(0.0, min(next_push, next_sample) - time.monotonic()))

    elapsed = time.monotonic() - t0
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        failures.append("op25bd did not stop within 60 s of SIGTERM")
    errf.close()
    report_text = (work / "op25bd.stdout").read_text(errors="replace")
    stderr_text = stderr_path.read_text(errors="replace")
    if proc.returncode != 0:
        failures.append(f"op25bd exit status {proc.returncode}")
    try:
        stats = json.loads(stats_path.read_text())
    except (OSError, ValueError) as e:
        stats = {}
        failures.append(f"no --stats-json output: {e}")

    # Reloads op25bd logged for SIGHUP pushes (tracing logs name the origin;
    # the pre-control-plane daemon printed "reloaded" / "reload ... rejected").
    lines = stderr_text.splitlines()
    reloaded = sum(1 for l in lines if "reloaded" in l
                   or ("config published" in l and is_sighup(l)))
    rejected = sum(1 for l in lines if ("reload" in l and "rejected" in l)
                   or ("config rejected" in l and is_sighup(l)))
    sighup_good = pushes["good"] - pushes["good_api"]
    sighup_bad = pushes["bad"] - pushes["bad_api"]

    def check(cond, msg):
        if not cond:
            failures.append(msg)

    if stats:
        check(stats.get("mempool_in_use") == 0, f"mempool_in_use {stats.get('mempool_in_use')} at exit (a leak)")
        for part in (stats, stats.get("outbound", {}), stats.get("inbound", {})):
            rx, f, r, d = (part.get(k, -1) for k in ("rx", "forwarded", "replied", "dropped"))
            check(rx == f + r + d, f"rx {rx} != forwarded {f} + replied {r} + dropped {d}")
        for k in ("dropped_no_mbuf",):
            n = stats["outbound"].get(k, 0) + stats["inbound"].get(k, 0)
            check(n == 0, f"{k} = {n}")
        want_gen = 1 + pushes["good"]
        check(stats.get("generation") == want_gen,
              f"generation {stats.get('generation')}, expected {want_gen} (1 + {pushes['good']} good pushes)")
    check(reloaded == sighup_good, f"{reloaded} reloads logged for {sighup_good} good SIGHUP pushes")
    check(rejected == sighup_bad, f"{rejected} rejections logged for {sighup_bad} bad SIGHUP pushes")
    check(not pushes["api_unexpected"], f"API answers contrary to the push: {pushes['api_unexpected'][:5]}")

    # Liveness: every port's receive counter grows in every interval.
    stalls = []
    rates = []
    for a, b in zip(samples, samples[1:]):
        dt = b[0] - a[0]
        d0, d1 = b[2] - a[2], b[3] - a[3]
        rates.append((d0 + d1) / dt if dt > 0 else 0)
        if d0 <= 0 or d1 <= 0:
            stalls.append({"t": round(b[0], 1), "rx_access": d0, "rx_core": d1})
    check(len(samples) >= 10, f"only {len(samples)} samples")
    check(not stalls, f"worker stalled (no frames received) in {len(stalls)} intervals: {stalls[:5]}")
    if rates:
        med = sorted(rates)[len(rates) // 2]
        check(min(rates) >= med * 0.1, f"throughput fell below a tenth of the median ({min(rates):.0f} vs {med:.0f} frames/s)")
    # Resident memory is flat: the second half never exceeds the first half's peak.
    half = len(samples) // 2
    rss_first = max((s[1] for s in samples[:half]), default=0)
    rss_second = max((s[1] for s in samples[half:]), default=0)
    check(rss_second <= rss_first + RSS_TOLERANCE_KB,
          f"resident memory grew: first-half peak {rss_first} kB, second-half peak {rss_second} kB")

    result = {
        "passed": not failures,
        "failures": failures,
        "duration_s": round(elapsed, 1),
        "push_interval_ms": int(PUSH_INTERVAL_S * 1000),
        "pushes": {
            "total": pushes["good"] + pushes["bad"],
            "good": pushes["good"],
            "bad": pushes["bad"],
            "via_api": pushes["good_api"] + pushes["bad_api"],
            "bad_kinds": dict(sorted(bad_kinds.items())),
        },
        "swaps": (stats.get("generation", 1) - 1) if stats else None,
        "reloads_logged": reloaded,
        "rejections_logged": rejected,
        "frames": {
            "rx": stats.get("rx"),
            "forwarded": stats.get("forwarded"),
            "replied": stats.get("replied"),
            "dropped": stats.get("dropped"),
            "per_second_median": round(sorted(rates)[len(rates) // 2]) if rates else None,
            "per_second_min": round(min(rates)) if rates else None,
        },
        "mempool_in_use": stats.get("mempool_in_use"),
        "mempool_size": stats.get("mempool_size"),
        "rss_kb": {
            "start": samples[0][1] if samples else None,
            "first_half_max": rss_first,
            "second_half_max": rss_second,
            "end": samples[-1][1] if samples else None,
        },
        "stalled_intervals": len(stalls),
        "samples": [{"t": round(t, 1), "rss_kb": r, "rx_access": a, "rx_core": c} for t, r, a, c in samples],
        "op25bd": args.bin,
        "seed": args.seed,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"{result['duration_s']} s, {result['pushes']['total']} pushes ({pushes['good']} good, {pushes['bad']} bad), "
        f"{result['swaps']} swaps, {stats.get('rx')} frames ({result['frames']['per_second_median']} /s median)")
    log(f"mempool in use at exit {stats.get('mempool_in_use')}; RSS {result['rss_kb']['start']} kB at start, "
        f"peaks {rss_first} / {rss_second} kB (first / second half); stalled intervals {len(stalls)}")
    log(f"written {out}")
    if failures:
        for f in failures:
            log(f"FAILED: {f}")
        log(f"op25bd's report:\n{report_text}\nstderr (last lines):\n" + "\n".join(stderr_text.splitlines()[-20:]))
        log(f"inputs and logs kept in {work}")
        return 1
    log("PASSED")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
