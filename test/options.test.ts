import { describe, expect, it } from 'vitest';
import { Mirror } from '../src/ingest/index.ts';
import { positiveArg, positiveOption } from '../src/options.ts';
import { cluster } from './helpers/kafka.ts';
import { IPAC_BROKERS, UW_BROKERS } from './helpers/services.ts';

describe('numeric options', () => {
  it('name the component and the option, or the flag, in a CONFIG_INVALID error', () => {
    expect(() => positiveOption('mirror', 'discoveryIntervalMs', -1)).toThrow('mirror option discoveryIntervalMs must be a number > 0, not -1');
    expect(() => positiveOption('mirror', 'reportIntervalMs', 0)).toThrow('must be a number > 0, not 0');
    expect(positiveOption('mirror', 'reportIntervalMs', 0, { allowZero: true })).toBe(0);
    expect(() => positiveOption('publish', 'partitions', 1.5, { integer: true })).toThrow('publish option partitions must be a whole number > 0, not 1.5');
    expect(() => positiveArg('--rate', 'fast')).toThrow('--rate must be a number > 0, not "fast"');
    expect(() => positiveArg('--rate', '')).toThrow('--rate must be a number, not ""');
    expect(positiveArg('--rate', '12.5')).toBe(12.5);
    let caught: unknown;
    try {
      positiveArg('--speed', '-2');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID', retriable: false, context: { key: '--speed' } });
  });

  it('are checked when a component is built, before it connects', () => {
    expect(() => new Mirror({ from: cluster(IPAC_BROKERS), to: cluster(UW_BROKERS), discoveryIntervalMs: 0 })).toThrow(/^mirror option discoveryIntervalMs must be a number > 0, not 0$/);
  });
});
