import { z } from 'zod';
import { REPLAY_DEFAULTS } from '../replay/index.ts';
import { night, timeBound } from './params.ts';

/** A time bound in a JSON body: a Julian Date as a number, or a string as the query parameters take it. */
const bodyTime = z.union([z.number().min(2_400_000).max(2_600_000), timeBound]);

/**
 * A number of a pacing: > 0, as the replay's own options check it (JSON Schema can show this form, which the
 * replay's check cannot be), with a bound a client's request must keep to.
 */
const paceNumber = (what: string) => z.number().positive().max(1_000_000).meta({ description: what });

/** How a replay spaces its messages (as `zads replay`: --rate, --rate --bursts, --speed, or as fast as possible). */
export const pacingSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('max') }).strict(),
    z
      .object({
        mode: z.literal('rate'),
        alertsPerSec: paceNumber('Alerts per second.'),
        bursts: z.boolean().optional().meta({ description: 'Send each exposure (alerts sharing a jd) at once, keeping the average rate.' }),
      })
      .strict(),
    z.object({ mode: z.literal('speed'), factor: paceNumber('The original arrival times, this many times faster.') }).strict(),
  ])
  .meta({ description: 'How messages are spaced in time; default as fast as the broker takes them.' });

/**
 * The body of `POST /v1/replays`. The target cluster is always the configured UW cluster: a client
 * chooses the topic, never where the server connects.
 */
export const replayRequestSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'an id is 1-100 of A-Z, a-z, 0-9, ".", "_", "-"')
      .optional()
      .meta({ description: 'Replay id; starting a stopped replay again with its id resumes it from its checkpoint. Default: a new UUID.' }),
    night,
    programid: z.number().int().min(0).max(9999).default(1).meta({ description: 'ZTF program of the night.' }),
    from: bodyTime.optional().meta({ description: 'Only alerts with jd ≥ this: a Julian Date or a UTC ISO time.' }),
    to: bodyTime.optional().meta({ description: 'Only alerts with jd < this: a Julian Date or a UTC ISO time.' }),
    objectIds: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$/))
      .min(1)
      .max(10_000)
      .optional()
      .meta({ description: 'Only the alerts of these objects.' }),
    topic: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'a Kafka topic name is 1-200 of A-Z, a-z, 0-9, ".", "_", "-"')
      .optional()
      .meta({
        description:
          'Target topic; default ztf_<night>_programid<N>_replay (config replay.topicTemplate). Created when missing. It must match the topics the token may write ' +
          '(GET /v1/replay-policy: config replay.allowedTopics or the token\'s own replayTopics); upstream nightly topics (ztf_YYYYMMDD_programidN), ' +
          'filter outputs (ztf_YYYYMMDD_programidN<suffix>) and internal topics (__*) are refused whatever the patterns say. A refusal is 403 REPLAY_TOPIC_REFUSED naming the topic and the rule.',
      }),
    allowAnyTopic: z
      .boolean()
      .optional()
      .meta({ description: 'Admin tokens only: write the topic even if the replay target policy refuses it. The server logs a warning naming the token and the topic.' }),
    partitions: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: `Partitions of a target topic created by the replay; default ${REPLAY_DEFAULTS.partitions}.` }),
    pacing: pacingSchema.optional(),
    maxAlerts: z.number().int().min(1).optional().meta({ description: 'Stop after this many alerts.' }),
    filters: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a filter is a predefined name (purity) or a module file name (my_filter.py) in the server\'s filter folder'))
      .min(1)
      .max(16)
      .optional()
      .meta({
        description:
          'Re-publish only the alerts that pass at least one of these filters: predefined names (purity, extragalactic, bright, solar-system) or ' +
          'file names of TypeScript (.ts/.js) or Python (.py, defining alert_filter(alert)) modules in the folder the server allows (config api.filterDir). ' +
          'The report then counts alerts judged, passed and failed.',
      }),
  })
  .strict()
  .refine((b) => b.from === undefined || b.to === undefined || b.from < b.to, { message: 'from must be before to', path: ['to'] });

export type ReplayRequest = z.output<typeof replayRequestSchema>;
