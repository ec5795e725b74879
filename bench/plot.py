"""A hand-written SVG bar chart of a benchmark run: each figure relative to nginx, absolute
values on the bars, the target as a dashed mark. No plotting library needed."""
from xml.sax.saxutils import escape

COLORS = {"wsgate": "#2b7bba", "nginx": "#3a9e4f", "haproxy": "#d9822b"}
LABELS = {"wsgate": "wsgate", "nginx": "nginx", "haproxy": "HAProxy"}
FASTER = [("msgs_w1", "ws msgs/s\nwindow 1"), ("msgs_w8", "ws msgs/s\nwindow 8"),
          ("hs", "new ws\nconns/s"), ("msgs_wss", "wss msgs/s\nwindow 1"), ("wsshs", "new wss\nconns/s")]
CHEAPER = [("cpu_w1", "CPU µs/msg\nwindow 1"), ("p99_w1", "p99 latency\nwindow 1"),
           ("rss_ws", "RSS per idle\nws conn"), ("rss_wss", "RSS per idle\nwss conn")]


def short(v):
    if v >= 10000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}"


def panel(x0, width, title, groups, med, targets, counted, ymax):
    top, height = 70, 250
    out = [f'<text x="{x0 + width / 2}" y="{top - 30}" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    y = lambda r: top + height - min(r, ymax) / ymax * height  # noqa: E731
    for tick in [0, 0.5, 1, 1.5, 2, 2.5, 3]:
        if tick > ymax:
            break
        out.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="{"#888" if tick == 1 else "#ddd"}" stroke-width="1"/>')
        out.append(f'<text x="{x0 - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick:g}x</text>')
    gw = width / len(groups)
    bw = gw / 4.2
    for i, (key, label) in enumerate(groups):
        row = med.get(key, {})
        base = row.get("nginx", {}).get("value")
        gx = x0 + i * gw + gw * 0.1
        for j, t in enumerate(["wsgate", "nginx", "haproxy"]):
            v = row.get(t, {}).get("value")
            if v is None or not base:
                continue
            r = v / base
            bx = gx + j * bw * 1.05
            faded = "" if counted(key) else ' fill-opacity="0.35"'
            out.append(f'<rect x="{bx:.1f}" y="{y(r):.1f}" width="{bw:.1f}" height="{top + height - y(r):.1f}" '
                       f'fill="{COLORS[t]}"{faded}><title>{LABELS[t]}: {v:.2f} ({r:.2f}x nginx)</title></rect>')
            out.append(f'<text x="{bx + bw / 2:.1f}" y="{y(r) - 4:.1f}" text-anchor="middle" font-size="10">{short(v)}</text>')
        goal = targets.get(key)
        if goal:
            out.append(f'<line x1="{gx - 3:.1f}" x2="{gx + bw + 3:.1f}" y1="{y(goal):.1f}" y2="{y(goal):.1f}" '
                       f'stroke="#c00" stroke-width="2" stroke-dasharray="4,2"><title>target {goal}x nginx</title></line>')
        for k, part in enumerate(label.split("\n")):
            out.append(f'<text x="{x0 + i * gw + gw / 2:.1f}" y="{top + height + 16 + 13 * k}" '
                       f'text-anchor="middle" font-size="11">{escape(part)}</text>')
    return out


def svg(med, machine, rows, rss_rows, check):
    targets = {key: t_ng for key, _, _, _, _, t_ng, _ in rows if t_ng}
    tests = {key: test for key, _, test, *_ in rows}
    counted = lambda key: key.startswith("rss") or check(key, tests.get(key, ""))  # noqa: E731
    for key, _, _, limit in rss_rows:
        base = med.get(key, {}).get("nginx", {}).get("value")
        if base:
            targets[key] = limit / base
    w, h = 980, 400
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'font-family="sans-serif" font-size="12">', f'<rect width="{w}" height="{h}" fill="white"/>']
    body += panel(60, 500, "Throughput relative to nginx (higher is better)", FASTER, med, targets, counted, 3)
    body += panel(640, 320, "Cost relative to nginx (lower is better)", CHEAPER, med, targets, counted, 1.5)
    lx = 60
    for t in ["wsgate", "nginx", "haproxy"]:
        body.append(f'<rect x="{lx}" y="{h - 34}" width="12" height="12" fill="{COLORS[t]}"/>')
        body.append(f'<text x="{lx + 16}" y="{h - 24}">{LABELS[t]}</text>')
        lx += 90
    body.append(f'<line x1="{lx}" x2="{lx + 20}" y1="{h - 28}" y2="{h - 28}" stroke="#c00" stroke-width="2" stroke-dasharray="4,2"/>')
    body.append(f'<text x="{lx + 26}" y="{h - 24}">wsgate target</text>')
    note = (f"{machine['date']}, {machine['cpus']} × {machine['cpu']}, Linux {machine['kernel']}; "
            "proxy alone on CPU 1; faded bars: generator-bound, not counted")
    body.append(f'<text x="{w - 10}" y="{h - 8}" text-anchor="end" font-size="10" fill="#555">{escape(note)}</text>')
    body.append("</svg>")
    return "\n".join(body) + "\n"
