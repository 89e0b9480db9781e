import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';

/** Whether the calling token (by name; names are unique in the config) has the admin role. */
export function hasAdminRole(ctx: ApiContext, caller: string | undefined): boolean {
  return caller !== undefined && ctx.config.tokens.some((t) => t.name === caller && t.roles.includes('admin'));
}

/** The replay target policy as the calling token sees it: what its replays may write, and what is refused. */
export function replayPolicyRoutes(ctx: ApiContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/v1/replay-policy',
      operationId: 'getReplayPolicy',
      tag: 'replay',
      summary: 'The topics the calling token may replay to',
      description:
        'The default topic (topicTemplate, {nightTopic} standing for ztf_<night>_programid<N>), the patterns of the topics this token may write ("*": any run of topic characters), ' +
        'and the topics refused whatever the patterns say: upstream nightly topics, filter outputs and internal topics. A replay to any other topic is refused with 403 REPLAY_TOPIC_REFUSED.',
      access: 'replay',
      responses: { '200': { description: 'The policy for this token.', content: jsonOf(ref('ReplayPolicy')) }, ...errors(401, 403, 503) },
      handle({ caller }, _req, res) {
        if (!ctx.replays) throw new ApiError('SERVICE_UNAVAILABLE', 'replay control is not enabled on this server');
        res.json(ctx.replays.policy.view(caller, hasAdminRole(ctx, caller)));
      },
    }),
  ];
}
