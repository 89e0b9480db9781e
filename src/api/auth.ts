import { createHash, timingSafeEqual } from 'node:crypto';
import type { ZadsConfig } from '../config/index.ts';
import { ApiError } from './errors.ts';

export type Role = 'read' | 'replay' | 'admin';
type ApiToken = ZadsConfig['api']['tokens'][number];

interface KnownToken {
  name: string;
  digest: Buffer;
  roles: ReadonlySet<Role>;
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="zads"' };

/** SHA-256 of a token, as the config stores it (hex). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer tokens from the config, kept as SHA-256 digests. A presented token is hashed and compared with
 * every configured digest in constant time (no early exit), so neither the comparison nor the position
 * of a match tells an attacker anything about the digests.
 */
export class TokenAuth {
  readonly #tokens: KnownToken[];

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ name: t.name, digest: Buffer.from(t.sha256.toLowerCase(), 'hex'), roles: new Set(t.roles) }));
  }

  /** The token named by an Authorization header, or undefined when there is none; 401 when it is bad. */
  identify(header: string | undefined): KnownToken | undefined {
    if (header === undefined || header === '') return undefined;
    const m = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim());
    if (!m) throw new ApiError('UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"', { headers: CHALLENGE });
    const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: KnownToken | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(digest, t.digest) && found === undefined) found = t;
    }
    if (!found) throw new ApiError('UNAUTHORIZED', 'unknown bearer token', { headers: CHALLENGE });
    return found;
  }

  /**
   * Checks that the caller may use a route needing `role` ("admin" may do everything); returns the
   * caller's token name. `open` routes and, with public reads, "read" routes need no token.
   */
  authorize(header: string | undefined, role: Role | 'open', publicReads: boolean): string | undefined {
    const token = this.identify(header);
    if (role === 'open' || (role === 'read' && publicReads)) return token?.name;
    if (!token) throw new ApiError('UNAUTHORIZED', `this needs a bearer token with the "${role}" role`, { headers: CHALLENGE });
    if (!token.roles.has(role) && !token.roles.has('admin')) {
      throw new ApiError('FORBIDDEN', `token "${token.name}" does not have the "${role}" role`);
    }
    return token.name;
  }
}
