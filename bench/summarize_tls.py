"""Summarizes scripts/bench-tls.sh results: medians per proxy and wsgate/nginx ratios."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
stats = {}
for proxy in ("wsgate", "nginx"):
    pp = [r["run"] for r in rows if r["proxy"] == proxy and r["run"]["mode"] == "pingpong"]
    hs = [r["run"] for r in rows if r["proxy"] == proxy and r["run"]["mode"] == "handshakes"]
    stats[proxy] = {
        # each round trip is two relayed messages
        "msgs_per_sec": statistics.median(2 * r["round_trips_per_sec"] for r in pp),
        "p50_us": statistics.median(r["p50_us"] for r in pp),
        "p99_us": statistics.median(r["p99_us"] for r in pp),
        "handshakes_per_sec": statistics.median(r["handshakes_per_sec"] for r in hs),
        "errors": sum(r["errors"] for r in pp + hs),
        "rounds": [round(2 * r["round_trips_per_sec"]) for r in pp],
        "hs_rounds": [round(r["handshakes_per_sec"]) for r in hs],
    }
print(f"{'proxy':8} {'msgs/s':>10} {'p50 µs':>8} {'p99 µs':>8} {'TLS hs/s':>9} {'errors':>7}  rounds msgs/s | hs/s")
for proxy, s in stats.items():
    print(f"{proxy:8} {s['msgs_per_sec']:>10.0f} {s['p50_us']:>8.0f} {s['p99_us']:>8.0f} "
          f"{s['handshakes_per_sec']:>9.0f} {s['errors']:>7}  {s['rounds']} | {s['hs_rounds']}")
w, n = stats["wsgate"], stats["nginx"]
print(f"ratio wsgate/nginx over wss: msgs/s {w['msgs_per_sec'] / n['msgs_per_sec']:.2f}x, "
      f"p99 {w['p99_us'] / n['p99_us']:.2f}x (lower is better), "
      f"new TLS handshakes/s {w['handshakes_per_sec'] / n['handshakes_per_sec']:.2f}x")
