import type { ResponseDoc } from '../route.ts';

/** `{ $ref }` to a component schema. */
export const ref = (name: string): Record<string, unknown> => ({ $ref: `#/components/schemas/${name}` });

export const jsonOf = (schema: Record<string, unknown>): Record<string, Record<string, unknown>> => ({ 'application/json': { schema } });

const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter or the body is invalid; the message names it.',
  401: 'No bearer token, or an unknown one.',
  403: 'The token lacks the role this needs.',
  404: 'No such night, object, alert or file.',
  406: 'None of the types in Accept can be given.',
  409: 'A replay of that id is running.',
  412: 'If-Match does not match the current ETag.',
  413: 'The body is larger than the limit.',
  415: 'The body is not application/json.',
  416: 'The range lies outside the file.',
  429: 'Too many requests from this client (api.rateLimit; see Retry-After), or, starting a replay, too many replays running.',
  431: 'The request line and headers are too large.',
  503: 'A service behind the API is unreachable.',
};

/** Error responses with the common body. */
export function errors(...statuses: number[]): Record<string, ResponseDoc> {
  return Object.fromEntries(statuses.map((s) => [String(s), { description: ERROR_TEXT[s] ?? 'Error.', content: jsonOf(ref('Error')) }]));
}
