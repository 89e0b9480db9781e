/**
 * The receiving end of the loopback stage, run as its own process so that it has its own event loop
 * (and core). Accepts one connection, counts the bytes until the sender ends, answers with the count,
 * and exits. Prints "port <n>" once listening.
 */
import { createServer } from 'node:net';

const server = createServer((socket) => {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.on('end', () => {
    socket.end(`${bytes}\n`);
    server.close();
  });
  socket.on('error', (err) => {
    process.stderr.write(`loopback server: ${err.message}\n`);
    process.exit(1);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`port ${address.port}\n`);
});
