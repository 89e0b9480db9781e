/**
 * librdkafka calls given up on while still running. The client runs each blocking call (send the offsets,
 * abort, disconnect) on libuv's thread pool, and one that ignores its own timeout — send_offsets_to_transaction
 * when the group coordinator goes down, confluentinc/librdkafka#5456 and #5511 — holds its thread for as long
 * as it hangs. process.exit() waits for the thread pool to drain, so a process holding such a call cannot end
 * by itself: the CLI's last resort (src/cli/main.ts) asks here.
 */
const stuck: string[] = [];

/** Records a call that was given up on while librdkafka still runs it ("mirror x: disconnect the failed producer"). */
export function noteStuckCall(what: string): void {
  stuck.push(what);
}

/** The calls given up on so far, in order. */
export function stuckCalls(): readonly string[] {
  return stuck;
}
