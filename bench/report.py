"""Summarises a scripts/bench.sh run: medians per target, wsgate's ratios to nginx and HAProxy
(the median of the per-round ratios, since rounds run side by side), which targets are met and
on what basis, syscalls per message and the profile summary. Prints the report; with an
output directory also writes benchmark.md, benchmark.json and benchmark.svg there.
Usage: report.py RUN_DIR [OUT_DIR]"""
import json
import os
import statistics
import sys

import plot
import sections

PROXIES = ["wsgate", "nginx", "haproxy", "nginx-deferred"]
NAMES = {"direct": "direct", "wsgate": "wsgate", "nginx": "nginx", "haproxy": "HAProxy",
         "nginx-deferred": "nginx deferred"}
# CPU 0 (generator and backends) at least this busy in a run means the generator may have set
# the pace: throughput and latency ratios of that run are not counted.
CPU0_LIMIT = 0.90
# The rule of thumb (direct at least 1.8x the best proxy), printed for reference.
DIRECT_HEADROOM = 1.8


class Row:
    """A line of the table: `metric` of `test`; `kind` says how its ratios count:
    'rate' (throughput: counts with CPU 0 headroom, else judged by `cost`), 'cost' (the proxy's
    CPU per unit: always counts), 'latency' (counts with CPU 0 headroom), 'rss' (absolute)."""

    def __init__(self, key, label, test, metric, kind, targets=None, cost=None, sub=False, limit=None):
        self.key, self.label, self.test, self.metric, self.kind = key, label, test, metric, kind
        self.targets, self.cost, self.sub, self.limit = targets or {}, cost, sub, limit

    @property
    def higher_is_better(self):
        return self.kind == "rate"


ROWS = [
    Row("msgs_w1", "ws msgs/s, 100 conns x 64 B, window 1", "w1", "msgs", "rate",
        {"nginx": 1.5, "haproxy": 1.5}, cost="cpu_w1"),
    Row("cpu_w1", "proxy CPU µs per message", "w1", "cpu_msg", "cost", {"nginx": 0.67}, sub=True),
    Row("p50_w1", "p50 latency, µs", "w1", "p50", "latency", sub=True),
    Row("p99_w1", "p99 latency, µs", "w1", "p99", "latency", sub=True),
    Row("msgs_w8", "ws msgs/s, window 8", "w8", "msgs", "rate", {"nginx": 1.5, "haproxy": 1.5}, cost="cpu_w8"),
    Row("cpu_w8", "proxy CPU µs per message", "w8", "cpu_msg", "cost", sub=True),
    Row("p99_w8", "p99 latency, µs", "w8", "p99", "latency", sub=True),
    Row("msgs_paced", "ws msgs/s, fixed load (100 conns paced)", "paced", "msgs", "info"),
    Row("p50_paced", "p50 latency, µs", "paced", "p50", "latency", sub=True),
    Row("p99_paced", "p99 latency, µs", "paced", "p99", "latency", {"nginx": 0.5}, sub=True),
    Row("cpu_paced", "proxy CPU µs per message", "paced", "cpu_msg", "cost", sub=True),
    Row("hs", "new ws connections/s (8 at a time)", "hs", "per_sec", "rate", {"nginx": 1.5}, cost="cpu_hs"),
    Row("cpu_hs", "proxy CPU µs per connection", "hs", "cpu_conn", "cost", sub=True),
    Row("msgs_wss", "wss msgs/s, window 1", "wss", "msgs", "rate", {"nginx": 1.3}, cost="cpu_wss"),
    Row("cpu_wss", "proxy CPU µs per message", "wss", "cpu_msg", "cost", sub=True),
    Row("p99_wss", "p99 latency, µs", "wss", "p99", "latency", sub=True),
    Row("wsshs", "new wss connections/s (TLS 1.3, P-256)", "wsshs", "per_sec", "rate", {"nginx": 2.0}, cost="cpu_wsshs"),
    Row("cpu_wsshs", "proxy CPU µs per connection", "wsshs", "cpu_conn", "cost", sub=True),
    Row("rss_ws", "RSS per idle ws connection (9 000 held), KB", "hold-ws", "rss", "rss", limit=1.5),
    Row("rss_wss", "RSS per idle wss connection, KB", "hold-wss", "rss", "rss", limit=4.0),
]
BY_KEY = {r.key: r for r in ROWS}


def metric(r, name):
    run = r.get("run", {})
    done = max(run.get("done", 0), 1)
    if name == "msgs":
        return 2 * run["per_sec"]  # an echo is two relayed messages
    if name in ("per_sec", "p50_us", "p99_us"):
        return run[name]
    if name in ("p50", "p99"):
        return run[name + "_us"]
    if name == "cpu_msg":
        return run["cpu"]["proxy_cpu_s"] * 1e6 / (2 * done)
    if name == "cpu_conn":
        return run["cpu"]["proxy_cpu_s"] * 1e6 / done
    if name == "rss":
        return (r["rss_after_kb"] - r["rss_before_kb"]) * 1024 / r["held"] / 1000
    raise ValueError(name)


def collect(rows):
    """{row key: {target: {"values": {round: v}, "cpu0": median, "cpu1": median, "errors": n}}}"""
    out = {}
    for row in ROWS:
        for r in rows:
            if r["test"] != row.test:
                continue
            if row.kind == "cost" and r["target"] == "direct":
                continue
            cell = out.setdefault(row.key, {}).setdefault(r["target"], {"values": {}, "busy": []})
            cell["values"][r.get("round", 0)] = metric(r, row.metric)
            if "run" in r:
                cell["busy"].append(r["run"]["cpu"]["core_busy"][:2])
                cell["errors"] = cell.get("errors", 0) + r["run"]["errors"]
    for per in out.values():
        for cell in per.values():
            cell["value"] = statistics.median(cell["values"].values())
            if cell["busy"]:
                cell["cpu0"] = statistics.median(b[0] for b in cell["busy"])
                cell["cpu1"] = statistics.median(b[1] for b in cell["busy"])
            del cell["busy"]
    return out


def ratio(med, key, a, b):
    """Median of the per-round a/b ratios (rounds run side by side), or None."""
    row = med.get(key, {})
    if a not in row or b not in row:
        return None
    va, vb = row[a]["values"], row[b]["values"]
    per_round = [va[k] / vb[k] for k in va if k in vb and vb[k]]
    return statistics.median(per_round) if per_round else None


def headroom(med, key, a, b):
    row = med.get(key, {})
    return all(row.get(t, {}).get("cpu0", 1.0) < CPU0_LIMIT for t in (a, b))


def verdict(med, row, other):
    """(ratio, counted, basis, met) for wsgate vs `other` on `row`."""
    r = ratio(med, row.key, "wsgate", other)
    if r is None:
        return None, False, "", None
    goal = row.targets.get(other)
    if row.kind == "cost":
        return r, True, "", None if goal is None else r <= goal
    if row.kind == "latency":
        ok = headroom(med, row.key, "wsgate", other)
        return r, ok, "", None if goal is None or not ok else r <= goal
    if row.kind == "rate":
        if headroom(med, row.key, "wsgate", other):
            return r, True, "measured", None if goal is None else r >= goal
        cost = ratio(med, row.cost, "wsgate", other) if row.cost else None
        if cost is None or goal is None:
            return r, False, "", None
        return r, False, f"by CPU cost {1 / cost:.2f}x", 1 / cost >= goal
    return r, True, "", None


def fmt(v):
    if v is None:
        return "-"
    if v >= 10000:
        return f"{v / 1000:.1f} k"
    return f"{v:.0f}" if v >= 100 else f"{v:.2f}"


def table(med, targets):
    cols = [t for t in ["direct"] + PROXIES if t in targets]
    proxies = [t for t in cols if t != "direct"]
    head = (["figure"] + [NAMES[t] for t in cols] + ["wsgate/nginx", "wsgate/HAProxy", "target, met?",
            "CPU0 / CPU1 busy (" + ", ".join(NAMES[t] for t in proxies) + ")"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    verdicts = []
    for row in ROWS:
        cells = med.get(row.key)
        if not cells:
            continue
        values = [fmt(cells.get(t, {}).get("value")) if not (row.kind == "rss" and t == "direct") else "-" for t in cols]
        ratios, goals = [], []
        for other in ("nginx", "haproxy"):
            r, counted, basis, met = verdict(med, row, other)
            ratios.append("-" if r is None else (f"{r:.2f}x" if counted else f"({r:.2f}x)"))
            if other in row.targets:
                sign = "≥" if row.higher_is_better else "≤"
                mark = {True: "✓", False: "✗", None: "not measurable"}[met]
                goals.append(f"{sign}{row.targets[other]}x {NAMES[other]}: {mark}" + (f" ({basis})" if basis and basis != "measured" else ""))
                verdicts.append((f"{row.label} vs {NAMES[other]}", met, basis))
        if row.limit is not None:
            w = cells.get("wsgate", {}).get("value")
            met = None if w is None else w <= row.limit
            goals.append(f"≤{row.limit} KB: {'✓' if met else '✗'}")
            verdicts.append((row.label, met, ""))
        busy = ""
        if not row.sub and row.kind not in ("rss",):
            busy = ", ".join(f"{cells[t]['cpu0']:.0%}/{cells[t]['cpu1']:.0%}" for t in proxies if "cpu0" in cells.get(t, {}))
        label = ("↳ " if row.sub else "") + row.label
        lines.append("| " + " | ".join([label] + values + ratios + ["; ".join(goals), busy]) + " |")
    return "\n".join(lines), verdicts


def direct_headroom(med):
    out = []
    for test, key in (("window 1", "msgs_w1"), ("window 8", "msgs_w8"), ("new connections", "hs")):
        row = med.get(key, {})
        best = max((v["value"] for t, v in row.items() if t in PROXIES), default=None)
        if best and "direct" in row:
            out.append(f"{test} {row['direct']['value'] / best:.2f}x")
    return ", ".join(out)


def main():
    run_dir = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else None
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "results.jsonl"))]
    machine = json.load(open(os.path.join(run_dir, "machine.json")))
    targets = sorted({r["target"] for r in rows}, key=lambda t: (["direct"] + PROXIES).index(t))
    med = collect(rows)
    tbl, verdicts = table(med, targets)
    rounds = max((r.get("round", 0) for r in rows), default=0)
    rate = next((r["run"].get("rate") for r in rows if r["test"] == "paced"), None)
    parts = [sections.header(machine, rounds, rate), "", tbl, "", sections.rules(CPU0_LIMIT), ""]
    if direct_headroom(med):
        parts += [f"Direct (no proxy) vs the best proxy: {direct_headroom(med)} (the issue's rule of thumb "
                  f"asks for {DIRECT_HEADROOM}x; the README explains why it cannot hold on two cores).", ""]
    scale_lines, scale_verdicts = sections.table_scale(rows)
    verdicts += scale_verdicts
    missed = [f"{v}{' (' + b + ')' if b and b != 'measured' else ''}" for v, met, b in verdicts if met is False]
    unknown = [v for v, met, _ in verdicts if met is None]
    parts.append("Targets missed: " + ("; ".join(missed) if missed else "none") + ".")
    if unknown:
        parts.append("Not measurable in this run: " + "; ".join(unknown) + ".")
    parts += scale_lines + sections.syscalls(rows, run_dir, NAMES) + sections.profiles(rows, run_dir, NAMES)
    text = "\n".join(parts)
    print(text)
    for key, per in med.items():
        for t, v in per.items():
            if v.get("errors"):
                print(f"warning: {v['errors']} errors in {key} for {t}", file=sys.stderr)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "benchmark.md"), "w") as f:
            f.write("# wsgate benchmark\n\nWritten by `scripts/bench.sh`; the README explains the setup.\n\n"
                    + text + "\n")
        with open(os.path.join(out_dir, "benchmark.json"), "w") as f:
            json.dump({"machine": machine, "medians": med}, f, indent=1, sort_keys=True)
        with open(os.path.join(out_dir, "benchmark.svg"), "w") as f:
            f.write(plot.svg(med, machine, BY_KEY))
        print(f"wrote {out_dir}/benchmark.md, benchmark.json, benchmark.svg", file=sys.stderr)


if __name__ == "__main__":
    main()
