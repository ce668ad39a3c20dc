#!/usr/bin/env python3
"""Plots docs/perf/*.jsonl (written by scripts/bench_performance.sh) into docs/*.svg.

    pip install matplotlib && python3 scripts/plot_performance.py
"""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

root = Path(__file__).resolve().parent.parent
perf = root / "docs" / "perf"


def load(series):
    path = perf / f"{series}.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if "wall_s" in r]


def rss_gb(r):
    return r["peak_rss_bytes"] / 1e9  # getrusage in the bench process


def plot(rows, x, xlabel, title, out, logx):
    rows = sorted(rows, key=lambda r: x(r))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    xs = [x(r) for r in rows]
    ax.plot(xs, [r["wall_s"] for r in rows], "o-", color="tab:blue", label="wall time")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("wall time (s)", color="tab:blue")
    if logx:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    ax.set_xticks(xs, [str(v) for v in xs])
    ax2 = ax.twinx()
    ax2.plot(xs, [rss_gb(r) for r in rows], "s--", color="tab:red", label="peak RSS")
    ax2.set_ylabel("peak RSS (GB)", color="tab:red")
    ax2.axhline(8, color="tab:red", alpha=0.4, linewidth=0.8)
    ax2.text(xs[0], 8, " 8 GB target", color="tab:red", alpha=0.7, fontsize=8, va="bottom")
    ax2.set_ylim(bottom=0, top=max(9, max(rss_gb(r) for r in rows) * 1.1))
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(root / "docs" / out)
    print("wrote", root / "docs" / out)


length = load("length") + load("long")
if length:
    plot(length, lambda r: r["n_pos"] - 1, "prompt tokens (BOS excluded)",
         "GPT-2-small-shaped synthetic model, max_feature_nodes 8192, 2 cores",
         "perf_prompt_length.svg", logx=True)
features = load("features")
if features:
    plot(features, lambda r: r["selected_features"], "feature nodes (max_feature_nodes)",
         f"same model, {features[0]['n_pos'] - 1} tokens, 2 cores", "perf_feature_count.svg", logx=False)



def timeline(tokens):
    """RSS over one whole run (scripts/bench_performance.sh timeline TOKENS), phases marked."""
    tsv = perf / f"memory_{tokens}.tsv"
    log = perf / f"memory_{tokens}.log"
    run = [r for r in load("long") if r["n_pos"] - 1 == tokens]
    if not tsv.exists() or not run:
        return
    rows = [line.split("\t") for line in tsv.read_text().splitlines()[1:] if line.strip()]
    t = [float(a) for a, _ in rows]
    gb = [int(b) / 1e9 for _, b in rows]
    r = run[-1]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(t, gb, color="tab:red")
    ax.axhline(8, color="tab:red", alpha=0.4, linewidth=0.8)
    ax.text(0, 8, " 8 GB target", color="tab:red", alpha=0.7, fontsize=8, va="bottom")
    # Phase boundaries: the trace starts after the synthetic model's setup.
    start = r["setup_s"]
    edges = [("setup", 0.0)]
    clock = start
    for name in ["forward", "transcoders", "logit_rows", "feature_rows", "pruning_and_scores"]:
        edges.append((name.replace("_and_scores", "").replace("_", " "), clock))
        clock += r["phases"][name]
    for (name, x0), (_, x1) in zip(edges, edges[1:] + [("end", clock)]):
        ax.axvline(x0, color="gray", alpha=0.3, linewidth=0.8)
        if x1 - x0 > 0.05 * clock:
            ax.text((x0 + x1) / 2, 0.3, name, ha="center", fontsize=8, color="gray")
    ax.set_xlabel("seconds since start (synthetic model set-up included)")
    ax.set_ylabel("resident memory (GB)")
    ax.set_ylim(0, 9)
    ax.set_title(f"{tokens} tokens, max_feature_nodes 8192: RSS sampled every second "
                 f"(peak {r['peak_rss_bytes'] / 1e9:.2f} GB)", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    out = root / "docs" / f"perf_memory_{tokens}.svg"
    fig.savefig(out)
    print("wrote", out)


timeline(4096)


def table(rows, x, xname):
    """Markdown table of a series (printed, for docs/performance.md)."""
    print(f"| {xname} | active features | wall (s) | feature rows (s) | GFLOP | efficiency | sgemm (GFLOP/s) | peak RSS (GB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=x):
        print(f"| {x(r)} | {r['active_features']:,} | {r['wall_s']:.1f} | {r['phases']['feature_rows']:.1f} | "
              f"{r['gflops']:,.0f} | {100 * r['efficiency']:.0f} % | {r['sgemm_gflops']:.0f} | {r['peak_rss_bytes'] / 1e9:.2f} |")
    print()


for series, x, name in [("full", lambda r: r["n_pos"] - 1, "tokens"), ("length", lambda r: r["n_pos"] - 1, "tokens"),
                        ("long", lambda r: r["n_pos"] - 1, "tokens"),
                        ("features", lambda r: r["selected_features"], "feature nodes")]:
    if load(series):
        print(f"### {series}")
        table(load(series), x, name)
