'use strict';
// The Socket.IO peer of the sync benchmark (scripts/bench-sync, `rooms` scenario):
// the same relay job as agentdeck's /api/sync minus validation and persistence.
// A tab emits `join` (room name, ack) and is put in the room; the publisher emits
// `delta` (room name, payload, ack): the payload goes to everyone else in the room
// (`socket.to(room).emit`) and the publisher gets an ack. WebSocket transport only,
// no compression, listening on 127.0.0.1 only. PORT=0 picks a free port; the
// chosen one is printed as `listening <port>`.

const http = require('node:http');
const { Server } = require('socket.io');

const port = Number.parseInt(process.env.PORT ?? '0', 10);
const httpServer = http.createServer((_request, response) => {
  response.writeHead(404);
  response.end();
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string') return;
    socket.join(room);
    if (typeof ack === 'function') ack({ ok: true });
  });
  socket.on('delta', (room, payload, ack) => {
    if (typeof room !== 'string') return;
    socket.to(room).emit('delta', payload);
    if (typeof ack === 'function') ack({ ok: true });
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`listening ${httpServer.address().port}`);
});

function stop() {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
