import type { KafkaMessage, Message } from '../../kafka/index.ts';
import type { FilterId } from '../tally.ts';

/** Header naming the filter that passed a record, on every output record. */
export const FILTER_HEADER = 'zads-filter';
/** Header holding that filter's version. */
export const FILTER_VERSION_HEADER = 'zads-filter-version';

/**
 * The output record of an input record that passed a filter: the original value (never re-encoded),
 * key, timestamp and headers, to the same partition number, with the filter's name and version added.
 */
export function outputRecord(message: KafkaMessage, partition: number, filter: FilterId): Message {
  const headers: NonNullable<Message['headers']> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v !== undefined) headers[k] = v as Buffer | string | (Buffer | string)[];
  }
  headers[FILTER_HEADER] = filter.name;
  headers[FILTER_VERSION_HEADER] = filter.version;
  return { partition, key: message.key, value: message.value, headers, timestamp: message.timestamp };
}
