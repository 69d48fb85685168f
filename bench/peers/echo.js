'use strict';
// echo: bench/echo's Node.js peer, an echo server the way Node's users write one.
//
// Each 'data' chunk is written straight back. Node queues what the socket
// does not take; the client sends one message at a time and waits for its
// echo, so the queue never holds more than one message.
//
// Prints {"port": N, "version": V} once it listens, then serves until SIGINT
// or SIGTERM, at which it exits 0.
//
// usage: node echo.js [port]    (0, the default, picks a free port)

const net = require('net');

const port = Number(process.argv[2] || 0);
if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
  console.error('usage: node echo.js [port]');
  process.exit(2);
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  // A reset by the peer ends the connection, not the server.
  socket.on('error', () => socket.destroy());
});

server.on('error', (err) => {
  console.error('echo.js:', err.message);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

server.listen({ host: '127.0.0.1', port, backlog: 1024 }, () => {
  const version = `node ${process.version}`;
  process.stdout.write(JSON.stringify({ port: server.address().port, version }) + '\n');
});
