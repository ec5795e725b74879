"""Writes a routes file of N WebSocketRoutes for the table benchmark of scripts/bench.sh:
one hostname each (r0.bench.local ...), two rules, both backends, and one of four policies
(so identical policies can share memory).  Usage: routes.py N BACKEND1 BACKEND2 > routes.yaml"""
import sys

n, b1, b2 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
policies = [
    "",
    "  timeouts: {idle: 1h}\n",
    "  keepalive: {pingInterval: 30s, pongTimeout: 10s}\n  limits: {maxMessageBytes: 1048576}\n",
    "  origins: {allow: [\"https://*.bench.local\"]}\n  loadBalancing: {algorithm: RoundRobin}\n",
]
out = sys.stdout
for i in range(n):
    out.write(f"""---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {{name: r{i}, namespace: team-{i % 50}}}
spec:
  hostnames: [r{i}.bench.local]
  rules:
    - path: {{type: PathPrefix, value: /ws}}
      backend: {{addresses: ["{b1}", "{b2}"]}}
    - path: {{type: PathPrefix, value: /socket.io/}}
      backend: {{addresses: ["{b2}", "{b1}"]}}
{policies[i % len(policies)]}""")
