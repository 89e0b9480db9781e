import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The root logger: JSON lines on stderr (stdout belongs to command output such as `inspect --json`).
 * Components take a child with their name: `rootLogger.child({ component: 'mirror' })`.
 */
export function createLogger(level: string = process.env.ZADS_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'zads' } }, pino.destination(2));
}
