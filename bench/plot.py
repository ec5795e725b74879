"""A hand-written SVG bar chart of a benchmark run, every figure relative to nginx, with
wsgate's target as a dashed mark. No plotting library needed."""
import statistics
from xml.sax.saxutils import escape

COLORS = {"wsgate": "#2b7bba", "nginx": "#3a9e4f", "haproxy": "#d9822b"}
LABELS = {"wsgate": "wsgate", "nginx": "nginx", "haproxy": "HAProxy"}
# Left: what one core carries (nginx's CPU per unit over the proxy's), by cost row.
CAPACITY = [("cpu_w1", "ws msgs\nwindow 1", "msgs_w1"), ("cpu_w8", "ws msgs\nwindow 8", "msgs_w8"),
            ("cpu_hs", "new ws\nconnections", "hs"), ("cpu_wss", "wss msgs\nwindow 1", "msgs_wss"),
            ("cpu_wsshs", "new wss\nconnections", "wsshs")]
# Right: lower is better, drawn as measured.
COST = [("p99_paced", "p99 latency, µs\nat a fixed load"), ("rss_ws", "RSS per idle\nws conn, KB"),
        ("rss_wss", "RSS per idle\nwss conn, KB")]


def ratio(med, key, t):
    row = med.get(key, {})
    if t not in row or "nginx" not in row:
        return None
    a, b = row[t]["values"], row["nginx"]["values"]
    per = [a[k] / b[k] for k in a if k in b and b[k]]
    return statistics.median(per) if per else None


def short(v):
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}"


def panel(x0, width, title, groups, ymax):
    """groups: [(label, [(proxy, ratio, text)], target)]"""
    top, height = 70, 240
    out = [f'<text x="{x0 + width / 2}" y="{top - 34}" text-anchor="middle" font-weight="bold">{escape(title[0])}</text>',
           f'<text x="{x0 + width / 2}" y="{top - 18}" text-anchor="middle" font-size="11" fill="#444">{escape(title[1])}</text>']

    def y(r):
        return top + height - min(r, ymax) / ymax * height

    tick = 0.0
    while tick <= ymax + 1e-9:
        out.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="{"#888" if tick == 1 else "#e2e2e2"}"/>')
        out.append(f'<text x="{x0 - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick:g}x</text>')
        tick += 0.5
    gw = width / max(len(groups), 1)
    bw = gw * 0.24
    for i, (label, bars, goal) in enumerate(groups):
        gx = x0 + i * gw + gw * 0.12
        for j, (t, r, text) in enumerate(bars):
            if r is None:
                continue
            bx = gx + j * bw * 1.06
            out.append(f'<rect x="{bx:.1f}" y="{y(r):.1f}" width="{bw:.1f}" height="{top + height - y(r):.1f}" '
                       f'fill="{COLORS[t]}"><title>{LABELS[t]}: {escape(text)} ({r:.2f}x nginx)</title></rect>')
            clipped = "▲" if r > ymax else ""
            out.append(f'<text x="{bx + bw / 2:.1f}" y="{y(r) - 4:.1f}" text-anchor="middle" font-size="10">{clipped}{escape(text)}</text>')
        if goal:
            out.append(f'<line x1="{gx - 4:.1f}" x2="{gx + bw + 4:.1f}" y1="{y(goal):.1f}" y2="{y(goal):.1f}" '
                       f'stroke="#c00" stroke-width="2" stroke-dasharray="4,2"><title>wsgate target</title></line>')
        for k, part in enumerate(label.split("\n")):
            out.append(f'<text x="{x0 + i * gw + gw / 2:.1f}" y="{top + height + 16 + 13 * k}" '
                       f'text-anchor="middle" font-size="11">{escape(part)}</text>')
    return out


def svg(med, machine, rows):
    left = []
    for cost_key, label, rate_key in CAPACITY:
        bars = []
        for t in ("wsgate", "nginx", "haproxy"):
            r = ratio(med, cost_key, t)
            v = med.get(cost_key, {}).get(t, {}).get("value")
            bars.append((t, None if not r else 1 / r, "" if v is None else short(v)))
        left.append((label, bars, rows[rate_key].targets.get("nginx")))
    right = []
    for key, label in COST:
        bars = []
        for t in ("wsgate", "nginx", "haproxy"):
            v = med.get(key, {}).get(t, {}).get("value")
            bars.append((t, ratio(med, key, t), "" if v is None else short(v)))
        goal = rows[key].targets.get("nginx")
        if rows[key].limit is not None:
            base = med.get(key, {}).get("nginx", {}).get("value")
            goal = rows[key].limit / base if base else None
        right.append((label, bars, goal))
    w, h = 1000, 400
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            'font-family="sans-serif" font-size="12">', f'<rect width="{w}" height="{h}" fill="white"/>']
    body += panel(60, 520, ("What one core carries, relative to nginx (higher is better)",
                            "nginx's CPU per message or connection / the proxy's; labels: CPU µs per unit"),
                  left, 3.0)
    body += panel(650, 330, ("Relative to nginx (lower is better)", "labels: the measured value"), right, 2.0)
    lx = 60
    for t in ("wsgate", "nginx", "haproxy"):
        body.append(f'<rect x="{lx}" y="{h - 36}" width="12" height="12" fill="{COLORS[t]}"/>')
        body.append(f'<text x="{lx + 16}" y="{h - 26}">{LABELS[t]}</text>')
        lx += 90
    body.append(f'<line x1="{lx}" x2="{lx + 22}" y1="{h - 30}" y2="{h - 30}" stroke="#c00" stroke-width="2" stroke-dasharray="4,2"/>')
    body.append(f'<text x="{lx + 28}" y="{h - 26}">wsgate target</text>')
    note = (f"{machine['date']}, {machine['cpus']} x {machine['cpu']}, Linux {machine['kernel']}; "
            "each proxy alone on CPU 1, generator and backends on CPU 0; scripts/bench.sh")
    body.append(f'<text x="{w - 10}" y="{h - 8}" text-anchor="end" font-size="10" fill="#555">{escape(note)}</text>')
    body.append("</svg>")
    return "\n".join(body) + "\n"
