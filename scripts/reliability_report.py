"""The table of scripts/reliability.sh: reads RUN_DIR/results.jsonl (one line per scenario),
prints scenario | measured | target | verdict, and writes OUT_DIR/reliability.{md,json}."""
import json
import os
import sys

# Closes land at a random moment of the drain period counted from when each tunnel sees the
# shutdown; reaching 9 000 tunnels on one thread takes a moment, so a close up to 1 s after
# the period still counts as within it.
DRAIN_ALLOWANCE_MS = 1000
# Flat: every tenth of the drain period holds at least this share of the busiest tenth.
FLAT_MIN_RATIO = 0.8
# Flat RSS: growth after the warm-up under this share of the RSS at the end of the warm-up.
SOAK_MAX_GROWTH = 0.05


def num(n):
    """1 000-style thousands."""
    return f"{int(n):,}".replace(",", " ")


def span(seconds):
    return f"{seconds / 60:.0f}-minute" if seconds >= 60 else f"{seconds:.0f}-second"


def verdict(ok):
    return "pass" if ok else "**miss**"


def reload_row(r):
    idle, ch = r["idle"], r["changes"]
    lost = idle["opened"] - idle["echoed"]
    ok = lost == 0 and idle["open_errors"] == 0 and ch["applied"] == ch["changes"]
    measured = (f"{lost} lost of {idle['opened']} ({ch['applied']:.0f} of {ch['changes']} changes "
                f"applied in {ch['seconds']:.0f} s, slowest {ch['slowest_apply_s'] * 1000:.0f} ms; "
                f"{r['active_after_changes']:.0f} open after them by wsgate's gauge)")
    detail = {"lost": lost, "opened": idle["opened"], "echoed": idle["echoed"],
              "closed_while_idle": idle["close_codes"], "no_echo": idle["no_echo"],
              "first_error": idle.get("first_error"), "changes": ch}
    return (f"{num(idle['asked'])} idle WebSockets through {num(ch['changes'])} route-table "
            "changes: connections lost",
            measured, "0", verdict(ok), detail)


def sigterm_row(r):
    idle, t0, period_ms = r["idle"], r["sigterm_ms"], r["drain_s"] * 1000
    closes = [(c, at - t0) for c, at in idle["closes"]]
    n = idle["opened"]
    in_time = [t for c, t in closes if c == 1001 and t <= period_ms + DRAIN_ALLOWANCE_MS]
    share = len(in_time) / n if n else 0.0
    tenths = [0] * 10
    for t in in_time:
        tenths[min(9, max(0, int(t * 10 // period_ms)))] += 1
    ratio = min(tenths) / max(tenths) if max(tenths) else 0.0
    last = max((t for _, t in closes), default=0)
    late = sum(1 for c, t in closes if c == 1001 and period_ms < t <= period_ms + DRAIN_ALLOWANCE_MS)
    measured = (f"{share * 100:.2f} % ({len(in_time)} of {n}) with 1001 within {r['drain_s']} s; "
                f"closes per tenth of the period {min(tenths)}-{max(tenths)} "
                f"(min/max {ratio:.2f}); last close {last / 1000:.3f} s ({late} in the "
                f"{DRAIN_ALLOWANCE_MS} ms allowance after the period), wsgate exited "
                f"{(r['exit_ms'] - t0) / 1000:.2f} s after SIGTERM (code {r['exit_code']})")
    ok = share == 1.0 and ratio >= FLAT_MIN_RATIO
    detail = {"share_1001_in_period": share, "close_codes": idle["close_codes"],
              "per_tenth": tenths, "min_max_ratio": ratio, "in_allowance": late, "last_close_s": last / 1000,
              "exit_s": (r["exit_ms"] - t0) / 1000, "exit_code": r["exit_code"],
              "no_close_at_end": idle["echoed"] + idle["no_echo"]}
    return (f"SIGTERM with {num(idle['asked'])} WebSockets: share closed with 1001 in the drain "
            "period, spread",
            measured, f"100 %, flat (every tenth >= {FLAT_MIN_RATIO} x the busiest)",
            verdict(ok), detail)


def kill_row(r):
    tries, steady = r["tries"], r["steady"]
    measured = (f"{tries['failed']} failed of {tries['ok'] + tries['failed']} new handshakes after "
                f"the ejection ({r['detect_s'] * 1000:.0f} ms after SIGKILL); "
                f"{r['on_victim']:.0f} connections were on the killed endpoint, "
                f"{steady['broken']} broke and {steady['reopened']} reopened, with "
                f"{steady['reopen_failed']} failed reopen attempt(s) on the way")
    detail = {"tries": tries, "steady": steady, "detect_s": r["detect_s"],
              "on_victim": r["on_victim"], "ejections": r["ejections"]}
    return (f"Backend SIGKILLed under {num(r['active'])} active connections: failed new "
            "handshakes after detection", measured, "0", verdict(tries["failed"] == 0), detail)


def slowloris_row(r):
    before, during, attack = r["before"], r["during"], r["attack"]
    p99 = during["handshake_p99_ms"]
    timed_out = r["timeouts_after"] - r["timeouts_before"]
    measured = (f"p99 {p99:.2f} ms (p50 {during['handshake_p50_ms']:.2f}, max "
                f"{during['handshake_max_ms']:.2f}; {during['failed']} failed of "
                f"{during['count']} over {during['seconds']:.0f} s) with {attack['ready']} slow "
                f"heads open ({r['wsgate_fds']} fds in wsgate) and {timed_out:.0f} heads timed "
                f"out (408) meanwhile; without the attack p99 {before['handshake_p99_ms']:.2f} ms")
    ok = p99 < 100 and during["failed"] == 0
    detail = {"before": before, "during": during, "attack": attack,
              "wsgate_fds": r["wsgate_fds"], "timed_out_during": timed_out}
    return (f"{num(attack['connections'])} slowloris connections: p99 handshake time of a "
            "normal client", measured,
            "< 100 ms", verdict(ok), detail)


def soak_row(r, run_dir):
    rows = [list(map(float, line.split())) for line in open(os.path.join(run_dir, r["samples"]))]
    t0 = rows[0][0]
    load = rows[1:] or rows
    warm = next((x for x in load if x[0] - t0 >= r["warmup_s"]), load[-1])
    after = [x for x in load if x[0] >= warm[0]]
    mib = lambda kb: kb / 1024
    growth = after[-1][1] - warm[1]
    # Least-squares slope of RSS after the warm-up, in MiB per hour.
    slope = 0.0
    if len(after) > 1:
        mt = sum(x[0] for x in after) / len(after)
        mr = sum(x[1] for x in after) / len(after)
        var = sum((x[0] - mt) ** 2 for x in after)
        slope = sum((x[0] - mt) * (x[1] - mr) for x in after) / var * 3600 / 1024 if var else 0.0
    s = r["steady"]
    measured = (f"RSS {mib(rows[0][1]):.1f} MiB idle, {mib(load[0][1]):.1f} at the first sample "
                f"under load, {mib(warm[1]):.1f} after the {span(r['warmup_s'])} warm-up, "
                f"{mib(after[-1][1]):.1f} at the end, max {mib(max(x[1] for x in load)):.1f}: "
                f"{growth / 1024:+.2f} MiB after the warm-up ({slope:+.2f} MiB/h); open files "
                f"{load[0][2]:.0f} -> {after[-1][2]:.0f}; {s['echoed']} echoes, {s['broken']} broken, "
                f"{s['churn']['ok']} new connections ({s['churn']['failed']} failed)")
    ok = growth <= SOAK_MAX_GROWTH * warm[1] and s["broken"] == 0 and s["churn"]["failed"] == 0
    detail = {"samples": rows, "growth_kb": growth, "slope_mib_per_h": slope, "steady": s}
    return (f"{span(r['duration_s'])} soak at moderate load: RSS growth", measured,
            f"flat (< {SOAK_MAX_GROWTH * 100:.0f} % after the warm-up; no broken connection)",
            verdict(ok), detail)


def details(rows):
    """The figures behind the table, scenario by scenario."""
    out = ["## Details", ""]
    for name, _, _, _, d in rows:
        out.append(f"**{name}**")
        out.append("")
        if "per_tenth" in d:
            out.append("Closes with 1001 per tenth of the drain period: "
                       + ", ".join(str(n) for n in d["per_tenth"]) + f"; close codes {d['close_codes']}.")
        elif "tries" in d:
            t, s = d["tries"], d["steady"]
            out.append(f"New handshakes after the ejection: p50 {t['handshake_p50_ms']:.2f} ms, p99 "
                       f"{t['handshake_p99_ms']:.2f} ms; failures {t['failures'] or 'none'}. Steady load: "
                       f"{s['echoed']} echoes (p99 {s['echo_p99_ms']:.2f} ms); how the broken connections "
                       f"ended: {s['first_break']}; failed opens by message: "
                       f"{s.get('open_failures', 'not recorded')}.")
        elif "during" in d:
            a = d["attack"]
            out.append(f"Attack client: {a['opened']} slow connections opened in all, "
                       f"{a['closed_by_server']} closed by wsgate, {a['connect_failed']} failed to connect.")
        elif "samples" in d:
            out.append("| minute | RSS (MiB) | open files | WebSockets open |")
            out.append("|---|---|---|---|")
            t0 = d["samples"][0][0]
            last = None
            for t, rss, fds, active in d["samples"]:
                minute = int((t - t0) // 60)
                if minute != last and (minute % 5 == 0 or (t, rss, fds, active) == tuple(d["samples"][-1])):
                    out.append(f"| {minute} | {rss / 1024:.1f} | {fds:.0f} | {active:.0f} |")
                    last = minute
        elif "changes" in d:
            out.append(f"Closed while idle: {d['closed_while_idle'] or 'none'}; no echo at the end: "
                       f"{d['no_echo']}.")
        out.append("")
    return "\n".join(out)


def report(run_dir, out_dir=None):
    results = [json.loads(line) for line in open(os.path.join(run_dir, "results.jsonl"))]
    machine = json.load(open(os.path.join(run_dir, "machine.json")))
    run = json.load(open(os.path.join(run_dir, "run.json")))
    makers = {"reload": reload_row, "sigterm": sigterm_row, "kill": kill_row,
              "slowloris": slowloris_row, "soak": lambda r: soak_row(r, run_dir)}
    rows = [makers[r["test"]](r) for r in results]
    lines = ["| scenario | measured | target | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d, _ in rows]
    table = "\n".join(lines)
    print(table)
    if not out_dir:
        return
    head = (f"# wsgate reliability\n\nMeasured {machine['date']} on {machine['cpus']} x "
            f"{machine['cpu']} ({machine['mem_mib'] // 1024} GiB, Linux {machine['kernel']}), "
            f"commit {run['commit']}, with `bash scripts/reliability.sh`"
            f"{' (QUICK=1)' if run['quick'] else ''}: {run['settings']}.\n"
            f"Load averages (1, 5, 15 min) at the start {run['load_start']}, at the end "
            f"{run.get('load_end', '?')} (other builds shared the machine).\n\n")
    notes = ("wsgate ran alone on CPU 1 with one worker thread; clients (`wsbench`) and echo "
             "backends on CPU 0. Every scenario started a fresh wsgate.\n\n" + details(rows))
    with open(os.path.join(out_dir, "reliability.md"), "w") as f:
        f.write(head + table + "\n\n" + notes)
    with open(os.path.join(out_dir, "reliability.json"), "w") as f:
        json.dump({"machine": machine, "run": run,
                   "rows": [{"scenario": a, "measured": b, "target": c, "verdict": d, "detail": e}
                            for a, b, c, d, e in rows]}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    report(*sys.argv[1:])
