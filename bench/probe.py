"""Helpers of the table benchmark in scripts/bench.sh.
  probe.py metric ADMIN_PORT NAME       prints a metric's value from wsgate's /metrics
  probe.py reload PID PORT HOST         sends SIGHUP and prints the ms until HOST is served
                                        (anything but 404 on PORT)"""
import http.client
import os
import signal
import sys
import time


def metric(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    conn.request("GET", "/metrics")
    for line in conn.getresponse().read().decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def status(port, host):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    conn.request("GET", "/ws", headers={"Host": host})
    return conn.getresponse().status


def reload(pid, port, host):
    started = time.monotonic()
    os.kill(int(pid), signal.SIGHUP)
    while time.monotonic() - started < 120:
        if status(port, host) != 404:
            return (time.monotonic() - started) * 1000
        time.sleep(0.002)
    raise SystemExit(f"{host} not served 120 s after SIGHUP")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "metric":
        print(metric(*args))
    elif cmd == "reload":
        print(f"{reload(*args):.1f}")
    else:
        raise SystemExit(__doc__)
