// Socket.IO clients for several wsgate replicas behind an L4 balancer: default transports
// (long-polling first, then the upgrade to websocket) and NO cookies. Each client has its own
// keep-alive agent, as a browser tab would: a session's long poll, its concurrent posts and
// its WebSocket travel on different TCP connections, which the balancer spreads over the
// replicas.
// Usage: node sio-replicas-client.js URL N [--concurrency=K]
// Each client emits 'echo' right after connecting (usually still on long-polling) and again
// after the upgrade. Prints one JSON summary line:
// {ok, total, errors, unknownSession, perBackend}; exits 0 when every client succeeded.
const http = require('http');
const { io } = require('socket.io-client');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? +a.split('=')[1] : def;
};
const [url, nText] = args.filter((a) => !a.startsWith('--'));
const n = +(nText || 10);
const concurrency = opt('concurrency', 40);

function runOne(i) {
  return new Promise((resolve) => {
    const agent = new http.Agent({ keepAlive: true });
    const s = io(url, { agent, reconnection: false, timeout: 10000, forceNew: true, withCredentials: false });
    const res = { i, first: null, upgradedTo: null, hello: null, early: null, late: null, error: null };
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.close();
      resolve(res);
    };
    const timer = setTimeout(() => { res.error = res.error || 'timeout'; done(); }, 20000);
    s.io.on('open', () => { res.first = s.io.engine.transport.name; });
    s.io.on('error', (e) => { res.error = res.error || `manager: ${e.message} ${e.description && e.description.message || ''}`; });
    s.on('hello', (name) => { res.hello = name; });
    // The early answer may still be on its way over polling when the late one arrives.
    const both = () => { if (res.early && res.late) done(); };
    s.on('connect', () => s.emit('echo', `early-${i}`, (reply) => { res.early = reply; both(); }));
    s.io.engine.on('upgrade', (t) => {
      res.upgradedTo = t.name;
      s.emit('echo', `late-${i}`, (reply) => { res.late = reply; both(); });
    });
    s.on('connect_error', (e) => { res.error = `connect_error: ${e.message}`; done(); });
    s.io.engine.on('close', (reason, desc) => {
      if (!(res.early && res.late)) { res.error = res.error || `closed: ${reason} ${desc && desc.message || ''}`; done(); }
    });
  });
}

(async () => {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      results.push(await runOne(i));
    }
  };
  await Promise.all([...Array(Math.min(concurrency, n)).keys()].map(worker));
  const ok = results.filter((r) => r.first === 'polling' && r.upgradedTo === 'websocket'
    && r.early && r.late && r.late.transport === 'websocket'
    && r.early.from === r.hello && r.late.from === r.hello);
  const errors = results.filter((r) => r.error).map((r) => r.error);
  const unknownSession = errors.filter((e) => /unknown/i.test(e)).length;
  const perBackend = {};
  for (const r of ok) perBackend[r.hello] = (perBackend[r.hello] || 0) + 1;
  const bad = results.filter((r) => !ok.includes(r)).slice(0, 5);
  console.log(JSON.stringify({ ok: ok.length, total: n, errors: errors.slice(0, 20), unknownSession, perBackend, bad }));
  process.exit(ok.length === n ? 0 : 1);
})();
