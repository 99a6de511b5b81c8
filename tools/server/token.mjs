// Join tokens for development and tests: HS256 JWTs (RFC 7519) as the room machine verifies
// them (claims `room`, `sub`, optional `role`, `iat`, `exp`). Only minting lives here; the C++
// core is the one verifier, so there is no second implementation that could disagree with it.
// Production apps mint these in their own backend with any JWT library and the same secret.

import { createHmac } from 'node:crypto';

export const ROLES = Object.freeze(['talker', 'dispatcher', 'teacher', 'student']);
export const DEFAULT_TTL_SECONDS = 3600;

const base64url = (buf) => Buffer.from(buf).toString('base64url');

/**
 * Mints a signed join token.
 *
 * @param {object} p
 * @param {string|Buffer} p.secret   the server's CHORUS_AUTH_SECRET
 * @param {string} p.room            the room it admits to, or "*" for any room
 * @param {string} p.identity        who the holder is (claim `sub`)
 * @param {string} [p.role]          talker | dispatcher | teacher | student
 * @param {number} [p.ttlSeconds=3600]  lifetime; `exp` = `iat` + ttlSeconds
 * @param {number} [p.now=Date.now()]   issue time in milliseconds since the epoch
 * @returns {string} header.payload.signature, each base64url without padding
 * @throws {TypeError|RangeError} on a missing secret, room or identity, an unknown role or a
 *   ttl that is not a positive whole number
 */
export function mintToken({ secret, room, identity, role, ttlSeconds = DEFAULT_TTL_SECONDS, now = Date.now() }) {
  if (!(typeof secret === 'string' || Buffer.isBuffer(secret)) || secret.length === 0) {
    throw new TypeError('mintToken: secret must be a non-empty string or Buffer');
  }
  if (typeof room !== 'string' || room === '') throw new TypeError('mintToken: room must be a non-empty string');
  if (typeof identity !== 'string' || identity === '') throw new TypeError('mintToken: identity must be a non-empty string');
  if (role !== undefined && !ROLES.includes(role)) {
    throw new RangeError(`mintToken: role must be one of ${ROLES.join(', ')}, got "${role}"`);
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`mintToken: ttlSeconds must be a positive whole number, got ${ttlSeconds}`);
  }
  if (!Number.isFinite(now)) throw new TypeError('mintToken: now must be milliseconds since the epoch');

  const iat = Math.floor(now / 1000);
  const payload = { room, sub: identity };
  if (role !== undefined) payload.role = role;
  payload.iat = iat;
  payload.exp = iat + ttlSeconds;

  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
