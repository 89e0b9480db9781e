import type { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** A component the CLI runs until it is stopped: the mirror, a filter runner, the archive ingest. */
export interface LongRunning {
  start(): Promise<void>;
  onFailure(listener: (err: ZadsError) => void): void;
}

/**
 * Starts `component` and waits until Ctrl-C or SIGTERM (resolves 0) or until it stops on an error of its
 * own, which is written to stderr as `<command>: <what failed and what to do>` (resolves 1). The signals are
 * listened to before the start, so a Ctrl-C while connecting stops it as soon as the start returns.
 * Closing the component is the caller's, in a `finally` beside its other resources.
 */
export async function runUntilStopped(command: string, component: LongRunning, o: { logger: Logger; what: string; started: () => void }): Promise<number> {
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const stopped = new Promise<number>((resolve) => {
    onSignal = (signal) => {
      o.logger.info({ signal }, `stopping ${o.what}`);
      resolve(0);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    component.onFailure((err) => {
      process.stderr.write(`${command}: ${err.describe()}\n`);
      resolve(1);
    });
  });
  try {
    await component.start();
    o.started();
    return await stopped;
  } finally {
    process.off('SIGINT', onSignal!);
    process.off('SIGTERM', onSignal!);
  }
}
