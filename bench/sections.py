"""Text sections of the benchmark report besides the main table."""
import os
import re


def header(machine, rounds, rate):
    paced = f" Fixed load: {2 * rate / 1000:.0f} k msgs/s in all." if rate else ""
    return (f"{machine['date']}, {machine['cpus']} x {machine['cpu']}, {machine['mem_mib'] // 1024} GiB, "
            f"Linux {machine['kernel']}; {rounds} interleaved rounds (values: medians; ratios: median "
            "of the per-round ratios). Generator and two echo backends on CPU 0, the proxy alone on "
            "CPU 1. msgs/s counts relayed messages (an echo is two)." + paced)


def rules(limit):
    return (f"Ratios in parentheses are not counted: CPU 0 (generator and backends) was at least "
            f"{limit:.0%} busy in one of the two runs, so the generator may have set the pace. Such a "
            "throughput target is judged by the proxies' CPU cost per unit of work instead (\"by CPU "
            "cost\": nginx's CPU per message over wsgate's, i.e. what one core can carry). CPU per unit "
            "always counts: it is the proxy's own time, whoever set the pace.")


def perf_stat_counts(path):
    counts = {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+(syscalls:sys_enter_(\w+)|context-switches)\b", line)
        if m and int(m.group(1).replace(",", "")):
            counts[m.group(3) or "(context switches)"] = int(m.group(1).replace(",", ""))
    return counts


def syscalls(rows, run_dir, names):
    out = []
    for r in rows:
        if r["test"] != "syscalls":
            continue
        counts = perf_stat_counts(os.path.join(run_dir, r["file"]))
        msgs = 2 * max(r["run"]["total"], 1)
        switches = counts.pop("(context switches)", 0)
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
        out.append(f"- {names[r['target']]}: {sum(counts.values()) / msgs:.2f} — "
                   + ", ".join(f"{k} {v / msgs:.3f}" for k, v in top)
                   + f"; context switches {switches / msgs:.3f}")
    if not out:
        return []
    return ["", "Syscalls per relayed message (window 1, counted on the proxy with "
            "`perf stat -e 'syscalls:sys_enter_*'`):", ""] + out


def profiles(rows, run_dir, names):
    out = []
    for r in rows:
        if r["test"] != "profile":
            continue
        dso = [line.strip() for line in open(os.path.join(run_dir, r["dso"]))][:6]
        sym = [line.strip() for line in open(os.path.join(run_dir, r["sym"]))][:16]
        out += ["", f"Profile of {names[r['target']]} (window 1, `perf record -e cpu-clock`; share of "
                "its CPU time by object, then the top symbols):", "", "```"] + dso + [""] + sym + ["```"]
    return out


def table_scale(rows):
    """Lines and verdicts of the route-table part: apply time and memory, translation time."""
    lines, verdicts = [], []
    for r in rows:
        if r["test"] == "table":
            apply_ms = r["apply_s"] * 1000
            mb = (r["rss_after_kb"] - r["rss_before_kb"]) / 1024
            verdicts += [(f"{r['routes']}-route table applied in < 50 ms", apply_ms < 50, ""),
                         (f"{r['routes']}-route table in < 30 MB", mb < 30, "")]
            lines.append(f"- Routes file with {r['routes']} routes applied on SIGHUP: {apply_ms:.0f} ms by "
                         f"`wsgate_route_table_apply_seconds` (parse excluded; target < 50 ms), "
                         f"{r['served_ms']:.0f} ms from SIGHUP to the last route served, "
                         f"RSS +{mb:.1f} MB (target < 30 MB).")
        if r["test"] == "translate":
            t = r["run"]
            lines.append(f"- Controller translation of {t['objects']} objects (half WebSocketRoutes, half "
                         f"Ingresses) into {t['routes']} routes, release build: {t['build_ms_median']:.0f} ms "
                         f"median of 5 (max {t['build_ms_max']:.0f} ms), RSS +{t['translation_rss_mb']:.1f} MB.")
    if lines:
        lines = ["", "Route tables at scale:", ""] + lines
    return lines, verdicts
