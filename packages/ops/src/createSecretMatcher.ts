import { hash, timingSafeEqual } from 'node:crypto';

/** Matches presented credentials against a configured set without leaking, by timing, how close a guess came. */
export interface SecretMatcher {
  /** How many secrets are configured. */
  readonly size: number;
  /**
   * @returns a short, stable fingerprint of the matching secret (first 12 hex digits of its
   *   SHA-256, safe to log and to key a rate limit on), or undefined when none matches
   */
  match(candidate: string): string | undefined;
}

/**
 * Builds a {@link SecretMatcher}. Each secret and each candidate is hashed with SHA-256 first, so
 * `crypto.timingSafeEqual` always compares two 32-byte digests (it throws on unequal lengths, and
 * comparing raw strings would leak their length); every configured secret is compared on every
 * call, so the time taken does not say which one matched either.
 *
 * @param secrets - the accepted secrets (bearer tokens, or `user:password` for basic auth)
 */
export function createSecretMatcher(secrets: readonly string[]): SecretMatcher {
  const digests = secrets.map((secret) => sha256(secret));
  return {
    size: digests.length,
    match(candidate) {
      const presented = sha256(candidate);
      let matched: Buffer | undefined;
      for (const digest of digests) {
        if (timingSafeEqual(digest, presented)) matched ??= digest;
      }
      return matched?.toString('hex').slice(0, 12);
    },
  };
}

function sha256(text: string): Buffer {
  // One-shot hash (Node ≥ 21.7): no Hash object per request (issue #10, the API's fixed cost).
  return hash('sha256', text, 'buffer');
}

/** The credentials of an `Authorization` header (RFC 9110 §11.6.2; the scheme is case-insensitive). */
export type PresentedCredentials = { scheme: 'bearer'; token: string } | { scheme: 'basic'; userPass: string } | { scheme: 'none' };

/**
 * Reads `Authorization: Bearer <token>` (RFC 6750 §2.1) or `Authorization: Basic <base64 user:pass>`
 * (RFC 7617). Anything else, malformed included, is `{ scheme: 'none' }`.
 */
export function readAuthorization(header: string | undefined): PresentedCredentials {
  const match = /^\s*(bearer|basic)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1] || !match[2]) return { scheme: 'none' };
  if (match[1].toLowerCase() === 'bearer') return { scheme: 'bearer', token: match[2] };
  return { scheme: 'basic', userPass: Buffer.from(match[2], 'base64').toString('utf8') };
}
