import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Stage } from '../harness.ts';

const MB = 2 ** 20;
const WRITE_BYTES = 64 * 1024;
const SERVER_ENTRY = fileURLToPath(new URL('./loopback-server.ts', import.meta.url));

/**
 * What one TCP connection over loopback carries on this machine between two node processes: the
 * ceiling for anything we push to a local broker or serve over HTTP.
 */
export const loopback: Stage = {
  name: 'loopback',
  group: 'baseline',
  description: 'loopback TCP MB/s, node client → node server in another process, 64 KB writes',
  async run(ctx) {
    const totalBytes = (ctx.quick ? 256 : 2048) * MB;
    const server = await startServer(ctx);
    const socket = connect(server.port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      const chunk = Buffer.alloc(WRITE_BYTES, 0x5a);
      let reply = '';
      socket.setEncoding('utf8').on('data', (s: string) => (reply += s));
      const ended = once(socket, 'end');

      const t0 = performance.now();
      let sent = 0;
      while (sent < totalBytes) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        sent += chunk.length;
        // Respect backpressure: wait for the kernel buffer to drain rather than queue 2 GB in memory.
        if (!socket.write(chunk)) await once(socket, 'drain');
        ctx.progress(`${Math.round(sent / MB)} / ${totalBytes / MB} MB`);
      }
      socket.end();
      await ended;
      const seconds = (performance.now() - t0) / 1000;

      const received = Number(reply.trim());
      if (received !== totalBytes) throw new Error(`the server received ${reply.trim() || 'nothing'} bytes of ${totalBytes}`);
      return [
        {
          metric: 'throughput',
          value: totalBytes / MB / seconds,
          unit: 'MB/s',
          notes: `${totalBytes / MB} MB in ${WRITE_BYTES / 1024} KB writes in ${seconds.toFixed(2)} s`,
        },
      ];
    } finally {
      socket.destroy();
      await server.stop();
    }
  },
};

interface ServerHandle {
  port: number;
  /** Waits for the server process to exit, ending it if it has not within 5 s. Idempotent. */
  stop(): Promise<void>;
}

async function startServer(ctx: BenchContext): Promise<ServerHandle> {
  // The same node with the same loader flags (tsx), so the server can be TypeScript too.
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, SERVER_ENTRY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stopping: Promise<void> | undefined;
  const exited = once(child, 'exit').then(() => undefined);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  ctx.defer('stop the loopback server', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  let out = '';
  child.stdout!.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the loopback server did not start within 30 s')), 30_000);
    child.on('error', (err) => reject(new Error(`could not start the loopback server: ${err.message}`)));
    child.on('exit', (code) => reject(new Error(`the loopback server exited (code ${code}) before listening`)));
    child.stdout!.on('data', (s: string) => {
      out += s;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { port, stop };
}
