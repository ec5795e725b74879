"""Helpers of scripts/reliability.sh.
  reliability.py routes REV BACKEND...    prints routes file revision REV (drain period and
      shutdown timeout from $DRAIN and $SHUTDOWN)
  reliability.py changes FILE PID ADMIN_PORT N BACKEND...    rewrites FILE N times (a real
      difference each time), sends SIGHUP and waits for wsgate to apply it; prints JSON
  reliability.py metric ADMIN_PORT NAME [LABEL=VALUE]        sum of a metric's matching series
  reliability.py wait-metric ADMIN_PORT NAME MIN TIMEOUT_S [LABEL=VALUE]
      waits until the sum reaches MIN; prints the seconds it took
  reliability.py report RUN_DIR [OUT_DIR]                    the table (and docs/reliability.*)"""
import http.client
import json
import os
import signal
import sys
import time


def routes(rev, backends, drain=None, shutdown=None):
    """Routes file revision `rev`: every revision differs from the one before. The route
    `main` carries the connections; each revision changes a request header on it; every
    other revision adds or removes a route, and every fifth adds or removes an endpoint that
    no connection uses (backends[2])."""
    rev = int(rev)
    drain = drain or os.environ.get("DRAIN", "20s")
    shutdown = shutdown or os.environ.get("SHUTDOWN", "30s")
    addrs = list(backends[:2])
    if rev % 5 == 4 and len(backends) > 2:
        addrs.append(backends[2])
    quoted = ", ".join(f'"{a}"' for a in addrs)
    docs = [f"""apiVersion: wsgate.dev/v1alpha1
kind: ProxyConfig
metadata: {{name: proxy}}
spec:
  shutdownTimeout: {shutdown}
""", f"""apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {{name: main}}
spec:
  rules:
    - backend: {{addresses: [{quoted}]}}
      filters: {{requestHeaderModifier: {{set: [{{name: X-Revision, value: "{rev}"}}]}}}}
  drain: {{closeCode: 1001, period: {drain}}}
"""]
    if rev % 2 == 1:
        docs.append(f"""apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {{name: extra-{rev}}}
spec:
  hostnames: ["extra-{rev}.example"]
  rules:
    - path: {{type: PathPrefix, value: /extra}}
      backend: {{addresses: ["{backends[0]}"]}}
""")
    return "---\n".join(docs)


def scrape(port):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    conn.request("GET", "/metrics")
    return conn.getresponse().read().decode()


def metric(port, name, label=None):
    total = 0.0
    for line in scrape(port).splitlines():
        if not (line.startswith(name + " ") or line.startswith(name + "{")):
            continue
        if label and label.replace("=", '="', 1) + '"' not in line:
            continue
        total += float(line.rsplit(" ", 1)[1])
    return total


def wait_metric(port, name, minimum, timeout, label=None):
    started = time.monotonic()
    while time.monotonic() - started < float(timeout):
        if metric(port, name, label) >= float(minimum):
            return time.monotonic() - started
        time.sleep(0.01)
    raise SystemExit(f"{name} {label or ''} did not reach {minimum} within {timeout} s")


def changes(path, pid, admin, n, backends):
    """N rewrites of the routes file, each applied before the next (SIGHUP, then the
    `applied` reload counter); rejected loads are counted, never expected."""
    key = "wsgate_route_table_reloads_total"
    applied0 = metric(admin, key, "result=applied")
    started = time.monotonic()
    slowest = 0.0
    for rev in range(1, int(n) + 1):
        tmp = path + ".next"
        with open(tmp, "w") as f:
            f.write(routes(rev, backends))
        os.replace(tmp, path)
        t0 = time.monotonic()
        os.kill(int(pid), signal.SIGHUP)
        while metric(admin, key, "result=applied") < applied0 + rev:
            if metric(admin, key, "result=rejected") > 0:
                raise SystemExit(f"revision {rev} was rejected: see the wsgate log")
            if time.monotonic() - t0 > 10:
                raise SystemExit(f"revision {rev} not applied within 10 s")
            time.sleep(0.002)
        slowest = max(slowest, time.monotonic() - t0)
    return {"changes": int(n), "applied": metric(admin, key, "result=applied") - applied0,
            "seconds": time.monotonic() - started, "slowest_apply_s": slowest}


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "routes":
        print(routes(args[0], args[1:]))
    elif cmd == "changes":
        print(json.dumps(changes(args[0], args[1], args[2], args[3], args[4:])))
    elif cmd == "metric":
        print(metric(*args))
    elif cmd == "wait-metric":
        print(f"{wait_metric(*args):.3f}")
    elif cmd == "report":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from reliability_report import report
        report(*args)
    else:
        raise SystemExit(__doc__)
