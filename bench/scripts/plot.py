#!/usr/bin/env python3
"""Plots of op25b-bench results: throughput per mix and the latency CDF.

Usage: plot.py LATEST_JSON OUT_DIR
Writes OUT_DIR/throughput.png and OUT_DIR/latency_cdf.png (matplotlib, Agg backend;
Debian: python3-matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def throughput(doc, out):
    mixes = doc["replay"]["mixes"]
    names = list(mixes)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    width = 0.36
    for i, name in enumerate(names):
        m = mixes[name]
        for j, (key, label, color) in enumerate(
            [("op25bd_mpps", "op25bd (full classification)", "#1f77b4"),
             ("testpmd_mpps", "dpdk-testpmd io (I/O ceiling)", "#aaaaaa")]):
            x = i + (j - 0.5) * width
            ax.bar(x, m[key], width, color=color, label=label if i == 0 else None)
            rounds = [r[key] for r in m["rounds"]]
            ax.plot([x] * len(rounds), rounds, "k.", markersize=4,
                    label="single rounds" if i == 0 and j == 1 else None)
        top = max(m["op25bd_mpps"], m["testpmd_mpps"])
        ax.annotate(f"ratio {m['ratio']:.2f}", (i, top), textcoords="offset points",
                    xytext=(0, 8), ha="center", fontsize=10, fontweight="bold")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n(mean {mixes[n]['mean_frame_bytes']:.0f} B)" for n in names])
    ax.set_ylabel("Mpps (median over rounds)")
    ax.set_ylim(0, max(max(m["op25bd_mpps"], m["testpmd_mpps"],
                           *[r["testpmd_mpps"] for r in m["rounds"]],
                           *[r["op25bd_mpps"] for r in m["rounds"]]) for m in mixes.values()) * 1.25)
    ax.set_title("Replay net_pcap (infinite_rx) -> net_null, 1 worker lcore")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{out}/throughput.png")
    plt.close(fig)


def latency(doc, out):
    lat = doc["latency"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120)
    for p in lat["phases"]:
        pts = [(max(ns, 1), q) for ns, q in p["cdf"]]
        xs = [x for x, _ in pts]
        qs = [q for _, q in pts]
        received = p.get("received_mpps", p.get("rx_mpps", 0.0))
        label = f"{p['name']} ({received:.2f} Mpps"
        if p.get("target_mpps") is not None:
            label += f" of {p['target_mpps']:.2f}"
        if p.get("missed"):
            label += ", MISSED"
        label += ")"
        a1.step(xs, qs, where="post", label=label)
        tail = [(x, 1.0 / (1.0 - q)) for x, q in pts if q < 1.0]
        a2.plot([t[1] for t in tail], [t[0] for t in tail], marker=".", label=label)
    a1.set_xscale("log")
    a1.set_xlabel("per-burst residence time (ns, log)")
    a1.set_ylabel("fraction of bursts")
    a1.set_title("Latency CDF")
    a1.grid(alpha=0.3, which="both")
    a1.legend(fontsize=8, loc="lower right")
    a2.set_xscale("log")
    a2.set_yscale("log")
    ticks = [1, 2, 10, 100, 1000, 10000]
    a2.set_xticks(ticks)
    a2.set_xticklabels(["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
    a2.set_xlabel("percentile")
    a2.set_ylabel("ns (log)")
    a2.set_title("Tail (percentile distribution)")
    a2.grid(alpha=0.3, which="both")
    fig.suptitle(f"dp-bench: {lat['mix']} mix, {lat['prefixes']} prefixes, "
                 f"rig maximum {lat['max_mpps']:.2f} Mpps (paced; received / target per load)")
    fig.tight_layout()
    fig.savefig(f"{out}/latency_cdf.png")
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        print("usage: plot.py LATEST_JSON OUT_DIR", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    throughput(doc, sys.argv[2])
    latency(doc, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
