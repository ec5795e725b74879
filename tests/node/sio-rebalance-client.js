// Socket.IO clients that stay connected and reconnect by themselves, for the rebalancing
// test: default transports (long-polling first, then the upgrade to websocket), no cookies.
// Usage: node sio-rebalance-client.js URL N
// Prints `ready {...}` once all N sessions are upgraded, then a status line `{...}` whenever
// something changed (at most every 100 ms): where the sessions are, every close (its code,
// the server it left, the one the reconnect reached, whether the Engine.IO session is new)
// and every error. Ends, after a last status line, when its stdin closes.
const { io } = require('socket.io-client');

const [url, nText] = process.argv.slice(2);
const n = +(nText || 10);
const clients = [];
const closes = [];
const errors = [];
let ready = false, dirty = true;

function status() {
  const on = {};
  let upgraded = 0;
  for (const c of clients) {
    if (c.server && c.socket.connected) on[c.server] = (on[c.server] || 0) + 1;
    if (c.socket.connected && c.socket.io.engine && c.socket.io.engine.transport.name === 'websocket') upgraded++;
  }
  return { on, upgraded, closes, errors };
}

function start(i) {
  const socket = io(url, { forceNew: true, timeout: 10000, reconnectionDelay: 100, reconnectionDelayMax: 500 });
  const c = { i, socket, server: null, sid: null, pending: null };
  socket.on('hello', (name) => {
    if (c.pending) {
      c.pending.to = name;
      c.pending.newSession = socket.io.engine.id !== c.pending.sid;
      c.pending = null;
    }
    c.server = name;
    c.sid = socket.io.engine.id;
    dirty = true;
  });
  socket.io.on('open', () => {
    socket.io.engine.on('close', (reason, details) => {
      const ctx = details && details.context;
      const code = ctx && typeof ctx.code === 'number' ? ctx.code : null;
      const close = { client: i, reason, code, from: c.server, sid: c.sid, to: null, newSession: null };
      closes.push(close);
      c.pending = close;
      dirty = true;
    });
    socket.io.engine.on('upgrade', () => { dirty = true; });
  });
  socket.on('connect_error', (e) => { errors.push(`client ${i}: connect_error ${e.message}`); dirty = true; });
  clients.push(c);
}

for (let i = 0; i < n; i++) start(i);

setInterval(() => {
  const s = status();
  if (!ready && s.upgraded === n) {
    ready = true;
    console.log(`ready ${JSON.stringify(s)}`);
    dirty = false;
  } else if (ready && dirty) {
    console.log(JSON.stringify(s));
    dirty = false;
  }
}, 100);

process.stdin.on('end', () => {
  console.log(JSON.stringify(status()));
  for (const c of clients) c.socket.close();
  process.exit(0);
});
process.stdin.resume();
