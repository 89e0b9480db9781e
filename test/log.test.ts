import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ZadsError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import type { LogConfig } from '../src/log.ts';

function captured(config: LogConfig) {
  const out: string[] = [];
  const logger = createLogger(config, new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk.toString()), done()) }));
  return { logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('logs at the level of the config it is given', () => {
    const { logger, lines } = captured({ level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('shows every error the same way under err: code, message, retriable, context and the cause chain', () => {
    const { logger, lines } = captured({ level: 'info' });
    const disk = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    const io = new ZadsError('STORAGE_IO', 'cannot append segment a.seg', { cause: disk, context: { key: 'a.seg' } });
    logger.warn({ err: io }, 'append failed');
    logger.warn({ err: 'a thrown string' }, 'odd');
    const [first, second] = lines();
    expect(first!.err).toEqual({
      type: 'ZadsError',
      code: 'STORAGE_IO',
      message: 'cannot append segment a.seg',
      retriable: false,
      context: { key: 'a.seg' },
      cause: { type: 'Error', code: 'EIO', message: 'EIO: i/o error, write', retriable: false, stack: expect.stringContaining('EIO') },
    });
    expect(second!.err).toEqual({ type: 'string', message: 'a thrown string', retriable: false });
  });

  it('gives a bug its stack and never calls it retriable', () => {
    const { logger, lines } = captured({ level: 'info' });
    logger.error({ err: new ZadsError('INTERNAL', 'mirror already started', { retriable: true }) }, 'bug');
    expect(lines()[0]!.err).toMatchObject({ code: 'INTERNAL', retriable: false, stack: expect.stringContaining('mirror already started') });
  });
});
