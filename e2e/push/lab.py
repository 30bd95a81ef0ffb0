#!/usr/bin/env python3
"""Helpers of e2e/push/run.sh, each run inside one network namespace.

  serve    --ports 25,587                    TCP echo servers (all addresses)
  connect  --src A --dst B --port P          one connection: prints open|refused|timeout
  session  --src A --dst B --port P --stop F --out J
                                             a long-lived echo session: a line every
                                             10 ms until file F exists; JSON result in J
  probe    --src A --dst B --port P --out J  new connections every 20 ms until one is
                                             refused; JSON {refused_at_ms, opened}
  push     --api ADDR --file Y --out J       PUT /v1/config; JSON {status, body, sent_ms, done_ms}
  swaps    --api ADDR --count N --files Y1,Y2
                                             N pushes alternating the files; JSON summary on stdout
Only the standard library; documentation addresses only.
"""
import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time


def now_ms():
    return time.time() * 1000.0


def serve(a):
    def handle(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)

    def listen(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(128)
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    for p in a.ports.split(","):
        threading.Thread(target=listen, args=(int(p),), daemon=True).start()
    print("serving", a.ports, flush=True)
    while True:
        time.sleep(3600)


def dial(src, dst, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((dst, port))
    return s


def connect(a):
    try:
        dial(a.src, a.dst, a.port, 2.0).close()
        print("open")
    except ConnectionRefusedError:
        print("refused")
    except OSError as e:
        print("timeout" if isinstance(e, socket.timeout) else "error: %s" % e)


def session(a):
    out = {"ok": False, "round_trips": 0, "error": None, "longest_gap_ms": 0.0}
    try:
        s = dial(a.src, a.dst, a.port, 5.0)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        last = now_ms()
        i = 0
        while not os.path.exists(a.stop):
            msg = ("line %d\n" % i).encode()
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(len(msg) - len(got))
                if not d:
                    raise OSError("the server closed the session")
                got += d
            if got != msg:
                raise OSError("echo mismatch: %r != %r" % (got, msg))
            t = now_ms()
            out["longest_gap_ms"] = max(out["longest_gap_ms"], t - last)
            last = t
            i += 1
            time.sleep(0.01)
        out["round_trips"] = i
        s.close()
        out["ok"] = True
    except OSError as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    with open(a.out, "w") as f:
        json.dump(out, f)


def probe(a):
    out = {"refused_at_ms": None, "opened": 0, "error": None}
    deadline = time.time() + a.max_s
    while time.time() < deadline and out["refused_at_ms"] is None:
        try:
            dial(a.src, a.dst, a.port, 1.0).close()
            out["opened"] += 1
        except ConnectionRefusedError:
            out["refused_at_ms"] = now_ms()
        except OSError as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
        if out["refused_at_ms"] is None and a.ready and out["opened"] == 1:
            open(a.ready, "w").close()
        time.sleep(0.02)
    with open(a.out, "w") as f:
        json.dump(out, f)


def put(api, body):
    host, port = api.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("PUT", "/v1/config", body=body, headers={"Content-Type": "application/yaml"})
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, data


def push(a):
    body = open(a.file, "rb").read()
    sent = now_ms()
    status, data = put(a.api, body)
    done = now_ms()
    with open(a.out, "w") as f:
        json.dump({"status": status, "body": data, "sent_ms": sent, "done_ms": done}, f)


def swaps(a):
    files = [open(f, "rb").read() for f in a.files.split(",")]
    gens, bad = [], []
    t0 = now_ms()
    for i in range(a.count):
        status, data = put(a.api, files[i % len(files)])
        if status != 200:
            bad.append({"i": i, "status": status, "body": data})
            continue
        gens.append(json.loads(data)["generation"])
    print(json.dumps({"pushed": len(gens), "bad": bad, "generations": gens,
                      "ms": now_ms() - t0}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve"); s.add_argument("--ports", required=True)
    for name in ("connect", "session", "probe"):
        s = sub.add_parser(name)
        s.add_argument("--src", required=True); s.add_argument("--dst", required=True)
        s.add_argument("--port", type=int, required=True)
        if name != "connect":
            s.add_argument("--out", required=True)
        if name == "session":
            s.add_argument("--stop", required=True)
        if name == "probe":
            s.add_argument("--max-s", type=float, default=30.0)
            s.add_argument("--ready", default=None)
    s = sub.add_parser("push"); s.add_argument("--api", required=True)
    s.add_argument("--file", required=True); s.add_argument("--out", required=True)
    s = sub.add_parser("swaps"); s.add_argument("--api", required=True)
    s.add_argument("--count", type=int, required=True); s.add_argument("--files", required=True)
    a = p.parse_args()
    {"serve": serve, "connect": connect, "session": session, "probe": probe,
     "push": push, "swaps": swaps}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
