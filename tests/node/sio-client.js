// Socket.IO clients with DEFAULT transports (long-polling first, then upgrade to websocket).
// Usage: node sio-client.js URL [N=4] [CA_FILE]
// Client i binds to source address 127.0.0.(2 + i % 200). Prints one JSON line per client and a summary line
// `{"ok":K,"total":N,"errors":[...]}`; exits 0 when every client polled, upgraded and got its echo back.
const http = require('http'), https = require('https'), fs = require('fs');
const { io } = require('socket.io-client');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const url = args[0], n = +(args[1] || 4), caFile = args[2];
const ca = caFile ? fs.readFileSync(caFile) : undefined;

function runOne(i) {
  return new Promise((resolve) => {
    const localAddress = `127.0.0.${2 + (i % 200)}`;
    const agent = url.startsWith('https')
      ? new https.Agent({ localAddress, keepAlive: true, ca })
      : new http.Agent({ localAddress, keepAlive: true });
    const s = io(url, { agent, ca, reconnection: false, timeout: 10000, forceNew: true });
    const res = { i, first: null, upgradedTo: null, hello: null, echo: null, error: null };
    const done = () => { s.close(); resolve(res); };
    const timer = setTimeout(() => { res.error = res.error || 'timeout'; done(); }, 15000);
    s.io.on('open', () => { res.first = s.io.engine.transport.name; });
    s.on('hello', (name) => { res.hello = name; });
    s.io.engine.on('upgrade', (t) => {
      res.upgradedTo = t.name;
      s.emit('echo', `ping-${i}`, (reply) => { res.echo = reply; clearTimeout(timer); done(); });
    });
    s.on('connect_error', (e) => { res.error = `connect_error: ${e.message}`; });
    s.io.engine.on('close', (reason) => { if (!res.echo) res.error = res.error || `closed: ${reason}`; });
  });
}

(async () => {
  const results = [];
  // Start clients in waves so a 2-core machine is not flooded all at once.
  const wave = 50;
  for (let start = 0; start < n; start += wave) {
    const batch = [...Array(Math.min(wave, n - start)).keys()].map((k) => runOne(start + k));
    results.push(...(await Promise.all(batch)));
  }
  for (const r of results) console.log(JSON.stringify(r));
  const ok = results.filter((r) => r.first === 'polling' && r.upgradedTo === 'websocket' && r.echo
    && r.echo.transport === 'websocket' && r.echo.from === r.hello);
  const errors = results.filter((r) => r.error).map((r) => r.error);
  console.log(JSON.stringify({ ok: ok.length, total: n, errors }));
  process.exit(ok.length === n ? 0 : 1);
})();
