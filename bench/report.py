"""Summarises a scripts/bench.sh run: medians per target, ratios (only where the generator
was not the bottleneck), targets met, syscalls per message, profile summary.
Prints the tables; with an output directory also writes benchmark.md, benchmark.json and
benchmark.svg there.  Usage: report.py RUN_DIR [OUT_DIR]"""
import json
import os
import re
import statistics
import sys

import plot

PROXIES = ["wsgate", "nginx", "haproxy", "nginx-deferred"]
NAMES = {"direct": "direct", "wsgate": "wsgate", "nginx": "nginx", "haproxy": "HAProxy",
         "nginx-deferred": "nginx deferred"}
# CPU 0 (generator and backends) at least this busy during a proxy's run means the generator
# may have been the bottleneck: throughput and latency ratios of that run are not counted.
CPU0_LIMIT = 0.90
# The rule of thumb (direct at least 1.8x the best proxy) is printed for reference.
DIRECT_HEADROOM = 1.8
# Rows whose runs decide whether the generator had headroom, by test.
THROUGHPUT_KEY = {"w1": "msgs_w1", "w8": "msgs_w8", "hs": "hs", "wss": "msgs_wss", "wsshs": "wsshs"}

# (key, label, test, value function, higher is better, target ratio vs nginx, vs HAProxy)
ROWS = [
    ("msgs_w1", "ws msgs/s, 100 conns x 64 B, window 1", "w1", "msgs", True, 1.5, 1.5),
    ("p50_w1", "  p50 latency, µs", "w1", "p50", False, None, None),
    ("p99_w1", "  p99 latency, µs", "w1", "p99", False, 0.5, None),
    ("cpu_w1", "  proxy CPU µs per message", "w1", "cpu", False, 0.67, None),
    ("msgs_w8", "ws msgs/s, window 8", "w8", "msgs", True, 1.5, 1.5),
    ("p99_w8", "  p99 latency, µs", "w8", "p99", False, None, None),
    ("cpu_w8", "  proxy CPU µs per message", "w8", "cpu", False, None, None),
    ("hs", "new ws connections/s (8 at a time)", "hs", "rate", True, 1.5, None),
    ("cpu_hs", "  proxy CPU µs per connection", "hs", "cpu_hs", False, None, None),
    ("msgs_wss", "wss msgs/s, window 1", "wss", "msgs", True, 1.3, None),
    ("p99_wss", "  p99 latency, µs", "wss", "p99", False, None, None),
    ("wsshs", "new wss connections/s (TLS 1.3, P-256)", "wsshs", "rate", True, 2.0, None),
]
RSS_ROWS = [("rss_ws", "RSS per idle ws connection, KB", "hold-ws", 1.5),
            ("rss_wss", "RSS per idle wss connection, KB", "hold-wss", 4.0)]


def value(run, kind):
    done = max(run["done"], 1)
    if kind == "msgs":
        return 2 * run["per_sec"]  # each echo is two relayed messages
    if kind == "rate":
        return run["per_sec"]
    if kind == "p50":
        return run["p50_us"]
    if kind == "p99":
        return run["p99_us"]
    if kind == "cpu":
        return run["cpu"]["proxy_cpu_s"] * 1e6 / (2 * done)
    if kind == "cpu_hs":
        return run["cpu"]["proxy_cpu_s"] * 1e6 / done
    raise ValueError(kind)


def load(run_dir):
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "results.jsonl"))]
    machine = json.load(open(os.path.join(run_dir, "machine.json")))
    return rows, machine


def medians(rows, targets):
    out = {}
    for key, _, test, kind, *_ in ROWS:
        for t in targets:
            runs = [r["run"] for r in rows if r["test"] == test and r["target"] == t]
            if not runs or (kind.startswith("cpu") and t == "direct"):
                continue
            out.setdefault(key, {})[t] = {
                "value": statistics.median(value(r, kind) for r in runs),
                "rounds": [round(value(r, kind), 2) for r in runs],
                "cpu0": statistics.median(r["cpu"]["core_busy"][0] for r in runs),
                "cpu1": statistics.median(r["cpu"]["core_busy"][1] for r in runs),
                "errors": sum(r["errors"] for r in runs),
            }
    for key, _, test, _ in RSS_ROWS:
        for r in rows:
            if r["test"] == test:
                kb = (r["rss_after_kb"] - r["rss_before_kb"]) * 1024 / r["held"] / 1000
                out.setdefault(key, {})[r["target"]] = {"value": kb}
    return out


def cpu0(med, test, target):
    return med.get(THROUGHPUT_KEY[test], {}).get(target, {}).get("cpu0")


def counted(med, key, test, a, b):
    """Does the a/b ratio of row `key` count? CPU cost always does (it is the proxy's own
    time per unit of work); throughput and latency only when CPU 0 had headroom in both runs."""
    if key.startswith("cpu"):
        return True
    busy = [cpu0(med, test, t) for t in (a, b)]
    return all(x is not None and x < CPU0_LIMIT for x in busy)


def check_text(med, test):
    row = med.get(THROUGHPUT_KEY[test], {})
    shown = [t for t in PROXIES if t in row]
    text = "CPU0 " + "/".join(f"{row[t]['cpu0']:.0%}" for t in shown)
    text += ", CPU1 " + "/".join(f"{row[t]['cpu1']:.0%}" for t in shown)
    return text


def direct_headroom(med):
    out = []
    for test, key in (("w1", "msgs_w1"), ("w8", "msgs_w8"), ("hs", "hs")):
        row = med.get(key, {})
        best = max((v["value"] for t, v in row.items() if t in PROXIES), default=None)
        if best and "direct" in row:
            out.append(f"{test} {row['direct']['value'] / best:.2f}x")
    return out


def fmt(v):
    if v is None:
        return "-"
    if v >= 10000:
        return f"{v / 1000:.1f} k"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}"


def ratio_cell(a, b, higher, target, ok):
    if a is None or b is None or b == 0:
        return "-", None
    r = a / b
    if not ok:
        return f"({r:.2f}x, not counted)", None
    met = None if target is None else (r >= target if higher else r <= target)
    mark = "" if met is None else (" ✓" if met else " ✗")
    return f"{r:.2f}x{mark}", met


def table(med, targets):
    cols = [t for t in ["direct"] + PROXIES if t in targets]
    head = ["figure"] + [NAMES[t] for t in cols] + ["wsgate/nginx", "wsgate/HAProxy", "target",
                                                   "busy (" + "/".join(NAMES[t] for t in cols if t != "direct") + ")"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    verdicts = []
    for key, label, test, kind, higher, t_ng, t_ha in ROWS:
        row = med.get(key)
        if not row:
            continue
        get = lambda t: row.get(t, {}).get("value")  # noqa: E731
        rn, met_n = ratio_cell(get("wsgate"), get("nginx"), higher, t_ng, counted(med, key, test, "wsgate", "nginx"))
        rh, met_h = ratio_cell(get("wsgate"), get("haproxy"), higher, t_ha, counted(med, key, test, "wsgate", "haproxy"))
        goal = []
        if t_ng:
            goal.append(f"{'≥' if higher else '≤'}{t_ng}x nginx")
            verdicts.append((label.strip() + " vs nginx", met_n))
        if t_ha:
            goal.append(f"{'≥' if higher else '≤'}{t_ha}x HAProxy")
            verdicts.append((label.strip() + " vs HAProxy", met_h))
        name = "↳ " + label.strip() if label.startswith("  ") else label
        check = check_text(med, test) if not label.startswith("  ") else ""
        lines.append("| " + " | ".join([name] + [fmt(get(t)) for t in cols] + [rn, rh, ", ".join(goal), check]) + " |")
    for key, label, _, limit in RSS_ROWS:
        row = med.get(key)
        if not row:
            continue
        get = lambda t: row.get(t, {}).get("value")  # noqa: E731
        w = get("wsgate")
        met = None if w is None else w <= limit
        verdicts.append((label, met))
        rn, _ = ratio_cell(w, get("nginx"), False, None, True)
        rh, _ = ratio_cell(w, get("haproxy"), False, None, True)
        lines.append("| " + " | ".join([label] + [fmt(get(t)) if t != "direct" else "-" for t in cols]
                                        + [rn, rh, f"≤{limit} KB" + (" ✓" if met else " ✗"), "fresh process each"]) + " |")
    return "\n".join(lines), verdicts


def syscalls(rows, run_dir):
    out = []
    for r in rows:
        if r["test"] != "syscalls":
            continue
        counts = {}
        for line in open(os.path.join(run_dir, r["file"])):
            m = re.match(r"\s*([\d,]+)\s+(syscalls:sys_enter_(\w+)|context-switches)\b", line)
            if m and int(m.group(1).replace(",", "")):
                name = m.group(3) or "(context switches)"
                counts[name] = int(m.group(1).replace(",", ""))
        msgs = 2 * max(r["run"]["total"], 1)
        switches = counts.pop("(context switches)", 0)
        total = sum(counts.values())
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:5] + [("context switches", switches)]
        out.append((r["target"], total / msgs, [(k, v / msgs) for k, v in top]))
    return out


def profile(rows, run_dir):
    out = []
    for r in rows:
        if r["test"] == "profile":
            dso = [l.strip() for l in open(os.path.join(run_dir, r["dso"]))][:6]
            sym = [l.strip() for l in open(os.path.join(run_dir, r["sym"]))][:18]
            out.append((r["target"], dso, sym))
    return out


def main():
    run_dir = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else None
    rows, machine = load(run_dir)
    targets = sorted({r["target"] for r in rows}, key=lambda t: (["direct"] + PROXIES).index(t))
    med = medians(rows, targets)
    tbl, verdicts = table(med, targets)
    rounds = max((r.get("round", 0) for r in rows), default=0)
    header = (f"{machine['date']}, {machine['cpus']} × {machine['cpu']}, {machine['mem_mib'] // 1024} GiB, "
              f"Linux {machine['kernel']}; medians of {rounds} interleaved rounds; generator and echo "
              f"backends on CPU 0, the proxy alone on CPU 1. msgs/s counts relayed messages "
              f"(an echo is two).")
    parts = [header, "", tbl, ""]
    missed = [v for v, met in verdicts if met is False]
    unknown = [v for v, met in verdicts if met is None]
    parts.append("Ratios in parentheses are not counted: CPU 0 (generator and backends) was at least "
                 f"{CPU0_LIMIT:.0%} busy in one of the two runs, so the generator may have set the pace. "
                 "CPU per message always counts: it is the proxy's own time per unit of work.")
    parts.append("")
    parts.append("Direct (no proxy) vs the best proxy: " + ", ".join(direct_headroom(med))
                 + f" (the rule of thumb asks for {DIRECT_HEADROOM}x; see the README for why it cannot hold here).")
    parts.append("")
    parts.append("Targets missed: " + (", ".join(missed) if missed else "none") + ".")
    if unknown:
        parts.append("Targets not measurable in this run: " + ", ".join(unknown) + ".")
    sc = syscalls(rows, run_dir)
    if sc:
        parts += ["", "Syscalls per relayed message (window 1, counted with `perf stat -e 'syscalls:sys_enter_*'` on the proxy):", ""]
        for t, total, top in sc:
            parts.append(f"- {NAMES[t]}: {total:.2f} — " + ", ".join(f"{k} {v:.2f}" for k, v in top))
    for t, dso, sym in profile(rows, run_dir):
        parts += ["", f"Profile of {NAMES[t]} (window 1, `perf record -e cpu-clock`), by object:", "", "```"]
        parts += dso + ["```", "", "Top symbols:", "", "```"] + sym + ["```"]
    text = "\n".join(parts)
    print(text)
    for key, per in med.items():
        for t, v in per.items():
            if v.get("errors"):
                print(f"warning: {v['errors']} errors in {key} for {t}", file=sys.stderr)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "benchmark.md"), "w") as f:
            f.write("# wsgate benchmark\n\nWritten by `scripts/bench.sh`.\n\n" + text + "\n")
        with open(os.path.join(out_dir, "benchmark.json"), "w") as f:
            json.dump({"machine": machine, "medians": med}, f, indent=1, sort_keys=True)
        with open(os.path.join(out_dir, "benchmark.svg"), "w") as f:
            f.write(plot.svg(med, machine, ROWS, RSS_ROWS, lambda k, t: counted(med, k, t, "wsgate", "nginx")))
        print(f"wrote {out_dir}/benchmark.md, benchmark.json, benchmark.svg", file=sys.stderr)


if __name__ == "__main__":
    main()
