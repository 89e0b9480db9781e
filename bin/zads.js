#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): its first line runs before Node's first asynchronous file read,
// the last moment the size of libuv's thread pool can be set. librdkafka's client makes blocking calls on
// that pool (each consumer's fetch wait, committed offsets, transaction commit and abort), and with the
// default 4 threads a mirror whose brokers were failing over had them all taken by offset reads waiting
// on the lost coordinator: the abort of the failed transaction never ran and the mirror stalled
// (confluent-kafka-javascript#124 describes the same starvation). Set UV_THREADPOOL_SIZE to override.
process.env.UV_THREADPOOL_SIZE ??= '32';

// Runs the TypeScript sources directly: tsx compiles on load, so a clone needs no build step.
import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return import('../src/cli/main.ts');
  })
  .catch((err) => {
    process.stderr.write(`zads: cannot start: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
