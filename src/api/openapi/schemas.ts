import { z } from 'zod';

/** JSON Schema 2020-12 of a zod schema as a request gives it (the input side), without `$schema`. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const num = { type: 'number' };
const numOrNull = { type: ['number', 'null'] };
const str = { type: 'string' };
const int = { type: 'integer' };
const candidString = { type: 'string', pattern: '^\\d{1,19}$', description: '64-bit integer as a decimal string.' };

const alertRow = {
  type: 'object',
  description: 'One alert as the catalogue records it. With `fields`, only those.',
  properties: {
    candid: candidString,
    objectId: str,
    night: { type: 'string', pattern: '^\\d{8}$' },
    programid: int,
    jd: num,
    ra: num,
    dec: num,
    fid: int,
    magpsf: numOrNull,
    sigmapsf: numOrNull,
    rb: numOrNull,
    drb: numOrNull,
    schemaVersion: str,
  },
};

const latency = { type: 'object', properties: { p50: num, p99: num, max: num, count: int } };

/** The component schemas of the document (the answers' shapes). */
export function componentSchemas(): Record<string, unknown> {
  return {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', examples: ['INVALID_PARAMETER'] }, message: str } },
      },
    },
    AlertRow: alertRow,
    LightCurve: { type: 'object', properties: { objectId: str, count: int, alerts: { type: 'array', items: { $ref: '#/components/schemas/AlertRow' } } } },
    AlertPage: {
      type: 'object',
      properties: {
        night: str,
        programid: int,
        count: int,
        alerts: { type: 'array', items: { $ref: '#/components/schemas/AlertRow' } },
        nextCursor: { type: ['string', 'null'], description: 'Pass back as `cursor` for the next page; null on the last.' },
      },
    },
    ConeResult: {
      type: 'object',
      properties: {
        ra: num,
        dec: num,
        radiusDeg: num,
        count: int,
        truncated: { type: 'boolean' },
        alerts: {
          type: 'array',
          items: { allOf: [{ $ref: '#/components/schemas/AlertRow' }, { type: 'object', properties: { distanceArcsec: num } }] },
        },
      },
    },
    AlertDocument: {
      type: 'object',
      properties: {
        candid: candidString,
        objectId: str,
        night: str,
        programid: int,
        schemaVersion: str,
        kafka: { type: ['object', 'null'], properties: { topic: str, partition: int, offset: candidString, timestamp: numOrNull } },
        cutouts: { type: 'object', additionalProperties: { type: 'object', properties: { fits: str, png: str } } },
        alert: { type: 'object', description: 'The decoded alert record; every 64-bit integer (candid, pid, …) as a decimal string.' },
      },
    },
    Night: {
      type: 'object',
      properties: {
        night: str,
        programid: int,
        state: { enum: ['open', 'closed'] },
        alerts: int,
        bytes: { type: 'integer', description: 'Bytes of the archived alerts.' },
        firstJd: numOrNull,
        lastJd: numOrNull,
        lastAlertAt: { type: ['string', 'null'], format: 'date-time' },
        closedAt: { type: ['string', 'null'], format: 'date-time' },
        reopened: int,
        stored: { type: 'string', description: 'local, s3 or local+s3.' },
        tarball: {
          type: ['object', 'null'],
          properties: { url: str, bytes: int, md5: str, alerts: int },
        },
      },
    },
    NightList: { type: 'object', properties: { count: int, nights: { type: 'array', items: { $ref: '#/components/schemas/Night' } } } },
    Replay: {
      type: 'object',
      properties: {
        id: str,
        topic: str,
        state: { enum: ['running', 'paused', 'done', 'cancelled', 'failed'] },
        sent: int,
        sentTotal: int,
        fromArchive: int,
        fromLive: int,
        bytes: int,
        seconds: num,
        requestedRate: numOrNull,
        achievedRate: num,
        pacingErrorMs: latency,
        publishLatencyMs: latency,
        transactions: int,
        error: str,
        filter: {
          type: 'object',
          description: 'With filters: what they did. An alert is re-published when it passes any of them.',
          properties: {
            names: { type: 'array', items: str },
            judged: { ...int, description: 'Alerts given to the filters.' },
            passed: { ...int, description: 'Alerts that passed (re-published unless the replay stopped first).' },
            failed: { ...int, description: 'Alerts that passed none (rejected, or a filter failed or timed out on them).' },
            undecodable: int,
            filters: {
              type: 'array',
              items: {
                type: 'object',
                properties: { name: str, version: str, tested: int, passed: int, rejected: int, errors: int, timeouts: int, lastError: str, busyMs: num },
              },
            },
          },
        },
        selection: { type: 'object', properties: { night: str, programid: int, fromJd: num, toJd: num, objectIds: { type: 'array', items: str } } },
        startedBy: { type: ['string', 'null'] },
        startedAt: { type: 'string', format: 'date-time' },
      },
    },
    ReplayPolicy: {
      type: 'object',
      description: 'Where the calling token\'s replays may write.',
      properties: {
        topicTemplate: { type: 'string', description: 'The topic of a replay that names none; {nightTopic} stands for ztf_<night>_programid<N>.' },
        allowedTopics: { type: 'array', items: str, description: 'Patterns of the topics this token may write: "*" is any run of topic characters, {nightTopic} the replayed night\'s topic.' },
        source: { enum: ['token', 'config'], description: 'token: the token\'s own replayTopics; config: replay.allowedTopics.' },
        refused: {
          type: 'array',
          description: 'Topics refused whatever the patterns say (rule names as in REPLAY_TOPIC_REFUSED messages).',
          items: { type: 'object', properties: { rule: { enum: ['upstream-nightly-topic', 'filter-output-topic', 'internal-topic'] }, topics: str } },
        },
        override: { type: 'string', description: 'Who may override the policy, and how.' },
      },
    },
    ReplayList: { type: 'object', properties: { count: int, replays: { type: 'array', items: { $ref: '#/components/schemas/Replay' } } } },
    Health: { type: 'object', properties: { status: { enum: ['ok', 'unavailable'] }, catalogue: str, s3: str, uptimeSeconds: int } },
  };
}
