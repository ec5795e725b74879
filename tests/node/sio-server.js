// Socket.IO 4 echo server used by wsgate's end-to-end tests.
// Usage: node sio-server.js PORT NAME   (PORT 0 picks a free port; listens on 127.0.0.1 only)
// Prints one line `listening <port>` when ready. Events: 'echo' (payload, ack) -> ack({from, transport, payload});
// emits 'hello' NAME on connect. Logs handshake errors ("Session ID unknown") to stdout.
const http = require('http');
const { Server } = require('socket.io');
const port = +(process.argv[2] || 0), name = process.argv[3] || 'sio';
const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['polling', 'websocket'], cors: { origin: true } });
io.on('connection', (socket) => {
  socket.emit('hello', name);
  socket.on('echo', (payload, ack) => {
    const reply = { from: name, transport: socket.conn.transport.name, payload,
                    xff: socket.handshake.headers['x-forwarded-for'] || null };
    if (typeof ack === 'function') ack(reply); else socket.emit('echo', reply);
  });
});
io.engine.on('connection_error', (err) => console.log(`connection_error ${err.code} ${err.message}`));
httpServer.listen(port, '127.0.0.1', () => console.log(`listening ${httpServer.address().port}`));
process.on('SIGTERM', () => process.exit(0));
