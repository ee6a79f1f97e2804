"""Turns bench/scale.sh's JSON lines into bench/SCALING.md (a table that bench/run.py puts into
docs/benchmarks.md) and docs/bench-scaling.png (the chart).

    bash bench/scale.sh 10 20000 10000 100000 1000000 > bench/scaling.jsonl
    bench/.venv/bin/python bench/scale_report.py bench/scaling.jsonl "how it was run"

The raw lines are committed (bench/scaling.jsonl) so the table and chart can be redrawn. Whatever
follows a line `<!-- notes -->` in the existing SCALING.md (the hand-written reading of the figures)
is kept.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip().startswith("{")]
    note = sys.argv[2] if len(sys.argv) > 2 else ""
    rows.sort(key=lambda r: r["task_runs"])
    out = [
        "## Scaling with the size of the database",
        "",
        "`bench/scale.sh` (one Baton binary; for each size a fresh database from `baton dev seed` with N task runs and",
        "N/10 flow runs, then bench-load against the server on it). " + note,
        "",
        "| task runs | flow runs | DB on disk | lifecycles/s c=8 | set_state p99 | server CPU per lifecycle | filter p99 (3 queries, c=4) | "
        "filter p50 | task runs page p50 / max | task runs of one run p50 / max | task-run count p50 / max | "
        "flow-run tag count p50 / max | events/s recorded | peak RSS | idle RSS | load avg |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        t = r["tasks"]
        out.append(
            f"| {r['task_runs']:,} | {r['flow_runs']:,} | {r['db_bytes'] / 1e6:,.0f} MB | {r['lifecycle']['per_s']:,.0f} | "
            f"{r['lifecycle']['set_state_p99_ms']:.1f} ms | {r['cpu_ms_per_lifecycle']:.2f} ms | {r['filter']['p99_ms']:.1f} ms | "
            f"{r['filter']['p50_ms']:.1f} ms | {t['task_runs_page_p50_ms']} / {t['task_runs_page_max_ms']} ms | "
            f"{t['task_runs_of_run_p50_ms']} / {t['task_runs_of_run_max_ms']} ms | {t['task_runs_count_state_p50_ms']} / "
            f"{t['task_runs_count_state_max_ms']} ms | {t['flow_runs_count_tag_p50_ms']} / {t['flow_runs_count_tag_max_ms']} ms | "
            f"{r['events']['per_s']:,.0f} | {r['peak_rss_kb'] / 1024:.0f} MB | {r['idle_rss_kb'] / 1024:.0f} MB | {r['load1']} |"
        )
    out += ["", "![Scaling with the database's size](bench-scaling.png)", ""]
    path = ROOT / "bench" / "SCALING.md"
    marker = "<!-- notes -->"
    old = path.read_text() if path.exists() else ""
    if marker in old:
        out += [marker + old.split(marker, 1)[1].rstrip("\n"), ""]
    path.write_text("\n".join(out))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    xs = [r["task_runs"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    series = [
        ("ms (latency)", [("filter p99", [r["filter"]["p99_ms"] for r in rows]), ("set_state p99", [r["lifecycle"]["set_state_p99_ms"] for r in rows]),
                          ("task-run count max", [r["tasks"]["task_runs_count_state_max_ms"] for r in rows])]),
        ("per second", [("lifecycles/s", [r["lifecycle"]["per_s"] for r in rows]), ("events/s", [r["events"]["per_s"] for r in rows])]),
        ("MB", [("peak RSS", [r["peak_rss_kb"] / 1024 for r in rows]), ("DB on disk / 10", [r["db_bytes"] / 1e7 for r in rows])]),
    ]
    for ax, (unit, lines) in zip(axes, series):
        for label, ys in lines:
            ax.plot(xs, ys, marker="o", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("task runs in the database")
        ax.set_ylabel(unit)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "bench-scaling.png", dpi=110)


if __name__ == "__main__":
    main()
