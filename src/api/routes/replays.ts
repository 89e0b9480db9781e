import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { replayRequestSchema } from '../replay-request.ts';
import type { ReplayRegistry } from '../replays.ts';
import { hasAdminRole } from './replay-policy.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';

const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'a replay id is 1-100 of A-Z, a-z, 0-9, ".", "_", "-"').meta({ description: 'Replay id.' }) });
const AUTH_ERRORS = errors(401, 403);

export function replayRoutes(ctx: ApiContext): AnyRoute[] {
  const registry = (): ReplayRegistry => {
    if (!ctx.replays) throw new ApiError('SERVICE_UNAVAILABLE', 'replay control is not enabled on this server');
    return ctx.replays;
  };
  const control = (action: 'pause' | 'resume' | 'cancel', summary: string) =>
    route({
      method: 'post',
      path: `/v1/replays/:id/${action}`,
      operationId: `${action}Replay`,
      tag: 'replay',
      summary,
      access: 'replay',
      params: idParams,
      responses: {
        [action === 'cancel' ? '202' : '200']: { description: 'The replay after the request.', content: jsonOf(ref('Replay')) },
        ...AUTH_ERRORS,
        ...errors(400, 404, 503),
      },
      handle({ params: p }, _req, res) {
        res.status(action === 'cancel' ? 202 : 200).json(registry()[action](p.id));
      },
    });
  return [
    route({
      method: 'post',
      path: '/v1/replays',
      operationId: 'startReplay',
      tag: 'replay',
      summary: 'Start a replay of an archived night (or a time window or some objects of it) to Kafka',
      description:
        'Re-publishes the exact archived bytes to a topic of the configured UW cluster at the chosen pace; the report measures the achieved rate. ' +
        'Starting a finished or cancelled id again resumes it from its checkpoint.',
      access: 'replay',
      body: replayRequestSchema,
      responses: {
        '201': { description: 'Started; Location names the replay.', content: jsonOf(ref('Replay')) },
        ...AUTH_ERRORS,
        ...errors(400, 404, 409, 413, 415, 429, 503),
        '403': { description: 'The token lacks the role, or the replay target policy refuses the topic (code REPLAY_TOPIC_REFUSED; the message names the topic and the rule; GET /v1/replay-policy shows what the token may write).', content: jsonOf(ref('Error')) },
      },
      async handle({ body, caller }, _req, res) {
        const view = await registry().start(body, caller, { admin: hasAdminRole(ctx, caller) });
        res.status(201).location(`/v1/replays/${encodeURIComponent(view.id)}`).json(view);
      },
    }),
    route({
      method: 'get',
      path: '/v1/replays',
      operationId: 'listReplays',
      tag: 'replay',
      summary: 'The replays started through this server',
      access: 'replay',
      responses: { '200': { description: 'Every replay, running or ended.', content: jsonOf(ref('ReplayList')) }, ...AUTH_ERRORS, ...errors(503) },
      handle(_input, _req, res) {
        const replays = registry().list();
        res.json({ count: replays.length, replays });
      },
    }),
    route({
      method: 'get',
      path: '/v1/replays/:id',
      operationId: 'getReplay',
      tag: 'replay',
      summary: "A replay's state and measurements (sent, achieved rate, pacing error, publish latency)",
      access: 'replay',
      params: idParams,
      responses: { '200': { description: 'The replay.', content: jsonOf(ref('Replay')) }, ...AUTH_ERRORS, ...errors(400, 404, 503) },
      handle({ params: p }, _req, res) {
        res.json(registry().get(p.id));
      },
    }),
    control('pause', 'Pause a replay (it holds after the transaction in flight)'),
    control('resume', 'Resume a paused replay'),
    control('cancel', 'Cancel a replay: it stops after the transaction in flight; its checkpoint stays, so the id can resume later'),
  ];
}
