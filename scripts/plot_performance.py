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
    ax2.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(root / "docs" / out)
    print("wrote", root / "docs" / out)


length = load("length")
if length:
    plot(length, lambda r: r["n_pos"] - 1, "prompt tokens (BOS excluded)",
         "GPT-2-small-shaped synthetic model, max_feature_nodes 8192, 2 cores",
         "perf_prompt_length.svg", logx=True)
features = load("features")
if features:
    plot(features, lambda r: r["selected_features"], "feature nodes (max_feature_nodes)",
         f"same model, {features[0]['n_pos'] - 1} tokens, 2 cores", "perf_feature_count.svg", logx=False)


def table(rows, x, xname):
    """Markdown table of a series (printed, for docs/performance.md)."""
    print(f"| {xname} | active features | wall (s) | feature rows (s) | GFLOP | efficiency | sgemm (GFLOP/s) | peak RSS (GB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=x):
        print(f"| {x(r)} | {r['active_features']:,} | {r['wall_s']:.1f} | {r['phases']['feature_rows']:.1f} | "
              f"{r['gflops']:,.0f} | {100 * r['efficiency']:.0f} % | {r['sgemm_gflops']:.0f} | {r['peak_rss_bytes'] / 1e9:.2f} |")
    print()


for series, x, name in [("full", lambda r: r["n_pos"] - 1, "tokens"), ("length", lambda r: r["n_pos"] - 1, "tokens"),
                        ("features", lambda r: r["selected_features"], "feature nodes")]:
    if load(series):
        print(f"### {series}")
        table(load(series), x, name)
