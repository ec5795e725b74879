// Socket.IO clients for the balancing tests and benchmark: default transports (long-polling
// first, then the upgrade to websocket), optionally with a cookie jar, optionally kept open.
// Usage: node sio-affinity-client.js URL N [--cookies] [--hold] [--concurrency=K] [--sources=S]
//   --cookies      keep cookies per client (engine.io-client's jar: `withCredentials`)
//   --hold         keep every session open until all finished, so per-backend counts are live
//   --concurrency  sessions being established at once (default 50)
//   --sources      client i binds to 127.0.0.(2 + i % S) (default 200)
// Prints one JSON summary line: {ok, total, errors, perBackend, elapsedMs, sessionsPerSec}.
const http = require('http');
const { io } = require('socket.io-client');

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? +a.split('=')[1] : def;
};
const [url, nText] = args.filter((a) => !a.startsWith('--'));
const n = +(nText || 10);
const cookies = flag('cookies'), hold = flag('hold');
const concurrency = opt('concurrency', 50), sources = opt('sources', 200);
const open = [];

function runOne(i) {
  return new Promise((resolve) => {
    const agent = new http.Agent({ localAddress: `127.0.0.${2 + (i % sources)}`, keepAlive: true });
    const s = io(url, { agent, reconnection: false, timeout: 10000, forceNew: true, withCredentials: cookies });
    const res = { i, first: null, upgradedTo: null, hello: null, echo: null, error: null };
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (hold && !res.error) open.push(s); else s.close();
      resolve(res);
    };
    const timer = setTimeout(() => { res.error = res.error || 'timeout'; done(); }, 15000);
    s.io.on('open', () => { res.first = s.io.engine.transport.name; });
    s.on('hello', (name) => { res.hello = name; });
    s.io.engine.on('upgrade', (t) => {
      res.upgradedTo = t.name;
      s.emit('echo', `ping-${i}`, (reply) => { res.echo = reply; done(); });
    });
    s.on('connect_error', (e) => { res.error = `connect_error: ${e.message}`; done(); });
    s.io.engine.on('close', (reason) => { if (!res.echo) { res.error = res.error || `closed: ${reason}`; done(); } });
  });
}

(async () => {
  const started = Date.now();
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < n) results.push(await runOne(next++));
  };
  await Promise.all([...Array(Math.min(concurrency, n)).keys()].map(worker));
  const elapsedMs = Date.now() - started;
  const ok = results.filter((r) => r.first === 'polling' && r.upgradedTo === 'websocket' && r.echo
    && r.echo.transport === 'websocket' && r.echo.from === r.hello);
  const perBackend = {};
  for (const r of ok) perBackend[r.hello] = (perBackend[r.hello] || 0) + 1;
  const errors = results.filter((r) => r.error || !ok.includes(r)).map((r) => r.error || `incomplete: ${JSON.stringify(r)}`);
  console.log(JSON.stringify({ ok: ok.length, total: n, errors, perBackend, elapsedMs,
    sessionsPerSec: Math.round((ok.length * 1000) / Math.max(1, elapsedMs)) }));
  for (const s of open) s.close();
  process.exit(0);
})();
