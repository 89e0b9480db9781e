import { writeSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isZadsError } from '../errors.ts';
import { registerArchive } from './archive.ts';
import { registerFilter } from './filter.ts';
import { registerDemo } from './demo.ts';
import { registerInspect } from './inspect.ts';
import { registerMirror } from './mirror.ts';
import { registerReplay } from './replay.ts';
import { registerProduce } from './produce.ts';
import { registerServe } from './serve.ts';
import { stuckCalls } from '../kafka/stuck-calls.ts';

const program = new Command('zads')
  .description('ZADS-TS: archive and replay of astronomical alert streams (ZTF Avro alerts over Kafka)')
  .showHelpAfterError('(run "zads --help" for the commands)')
  .exitOverride();

registerInspect(program);
registerMirror(program);
registerProduce(program);
registerArchive(program);
registerReplay(program);
registerDemo(program);
registerFilter(program);
registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (isZadsError(err)) {
    process.stderr.write(`zads: ${err.describe()}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`zads: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 70;
  }
}

// A finished command has closed what it opened, so nothing should keep the process alive — but a Kafka client
// whose close never returns can (a transactional producer abandoned during a broker fail-over, its disconnect
// stuck in librdkafka: CI's fail-over test saw a mirror log its clean stop on SIGTERM and never exit). Pending
// output gets a moment; then the process ends with the command's exit code — or by SIGKILL when librdkafka
// calls given up on still hold the thread pool that process.exit() would wait for.
const FORCED_EXIT_AFTER_MS = 5000;
setTimeout(() => {
  const stuck = stuckCalls();
  if (stuck.length > 0) {
    // process.exit() would wait for libuv's thread pool, where these calls hang for ever (librdkafka#5456): only
    // a signal ends the process. Everything was committed transactionally before; a restart goes on from there.
    // Written synchronously: a pipe's asynchronous write would die with the process.
    writeSync(2, `zads: ${stuck.length} Kafka client call(s) still hang in librdkafka past their timeout (${stuck.join('; ')}; confluentinc/librdkafka#5456): ending the process with SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  process.stderr.write(`zads: something did not close within ${FORCED_EXIT_AFTER_MS / 1000} s of the command's end: exiting anyway\n`);
  process.exit();
}, FORCED_EXIT_AFTER_MS).unref();
