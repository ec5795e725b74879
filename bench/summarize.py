"""Summarizes scripts/bench.sh results: medians per proxy and wsgate/nginx ratios."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
tick_us = 1e6 / float(sys.argv[2])
stats = {}
for proxy in ("wsgate", "nginx"):
    runs = [r for r in rows if r["proxy"] == proxy and "run" in r]
    hold = next(r for r in rows if r["proxy"] == proxy and "hold" in r)
    msgs = [2 * r["run"]["round_trips"] for r in runs]  # each round trip is two relayed messages
    stats[proxy] = {
        "msgs_per_sec": statistics.median(2 * r["run"]["round_trips_per_sec"] for r in runs),
        "p50_us": statistics.median(r["run"]["p50_us"] for r in runs),
        "p99_us": statistics.median(r["run"]["p99_us"] for r in runs),
        "cpu_us_per_msg": statistics.median(r["cpu_ticks"] * tick_us / m for r, m in zip(runs, msgs) if m),
        "rss_kb_per_conn": (hold["rss_after_kb"] - hold["rss_before_kb"]) / hold["hold"],
        "errors": sum(r["run"]["errors"] for r in runs),
        "rounds": [round(2 * r["run"]["round_trips_per_sec"]) for r in runs],
    }
print(f"{'proxy':8} {'msgs/s':>10} {'p50 µs':>8} {'p99 µs':>8} {'CPU µs/msg':>11} {'RSS KiB/conn':>13} {'errors':>7}  rounds msgs/s")
for proxy, s in stats.items():
    print(f"{proxy:8} {s['msgs_per_sec']:>10.0f} {s['p50_us']:>8.0f} {s['p99_us']:>8.0f} {s['cpu_us_per_msg']:>11.2f} "
          f"{s['rss_kb_per_conn']:>13.1f} {s['errors']:>7}  {s['rounds']}")
w, n = stats["wsgate"], stats["nginx"]
print(f"ratio wsgate/nginx: msgs/s {w['msgs_per_sec'] / n['msgs_per_sec']:.2f}x, "
      f"p99 {w['p99_us'] / n['p99_us']:.2f}x (lower is better), "
      f"CPU/msg {w['cpu_us_per_msg'] / n['cpu_us_per_msg']:.2f}x (lower is better), "
      f"RSS/conn {w['rss_kb_per_conn'] / max(n['rss_kb_per_conn'], 0.001):.2f}x (lower is better)")
