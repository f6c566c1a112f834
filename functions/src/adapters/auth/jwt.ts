import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, type JWTHeaderParameters, jwtVerify, SignJWT } from 'jose';
import { ChatError } from '#core/errors.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { loadKeySet, loadVerifyKeys, reloadKeySetAfterMiss, SigningAlgs } from './keys.ts';

/**
 * Access tokens: short-lived JWTs signed with the active key of the key set (EdDSA/Ed25519 by default).
 * Header `{ alg, kid, typ: "at+jwt" }`; claims `iss`, `aud`, `sub` (user id), `iat`, `nbf`, `exp`, `jti`,
 * `sid` (the refresh-token family, i.e. the sign-in session).
 *
 * Signing needs the private key set (the auth function only); verifying needs only the public one (keys.ts).
 * `verifyAccessToken` is THE verification function: every authenticated HTTP route goes through it (transport/http.ts).
 */

export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Clock skew tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5;

export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

export async function signAccessToken(
  userId: string,
  sessionId: string,
  now: Date = new Date(),
): Promise<{ accessToken: string; expiresAt: Date }> {
  const set = await loadKeySet();
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + config.accessTokenTtlSeconds();
  const accessToken = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: set.signingAlg, kid: set.activeKid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(config.jwtIssuer())
    .setAudience(config.jwtAudience())
    .setSubject(userId)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomBytes(12).toString('base64url'))
    .sign(set.signingKey);
  return { accessToken, expiresAt: new Date(exp * 1000) };
}

const unauthorized = (cause?: unknown) => new ChatError('unauthorized', undefined, { cause });

/**
 * Verify an access token: the algorithm is pinned to the one of the key named by `kid` (and must be one we
 * sign with: never `none`, never HMAC), the signature must match that key, and `iss`, `aud`, `exp`, `nbf`,
 * `sub` must be present and right. Anything else throws `unauthorized`.
 */
export async function verifyAccessToken(token: string): Promise<AccessClaims> {
  let header: JWTHeaderParameters;
  try {
    header = decodeProtectedHeader(token) as JWTHeaderParameters;
  } catch (e) {
    throw unauthorized(e);
  }
  const kid = header.kid;
  if (typeof kid !== 'string') throw unauthorized('no kid');
  // The public key set: the private one is the signer's alone (keys.ts).
  let entry = (await loadVerifyKeys()).get(kid);
  if (!entry && (await reloadKeySetAfterMiss())) entry = (await loadVerifyKeys()).get(kid);
  if (!entry || !(SigningAlgs as readonly string[]).includes(entry.alg)) throw unauthorized('unknown kid');
  try {
    const { payload } = await jwtVerify(token, entry.key, {
      algorithms: [entry.alg],
      issuer: config.jwtIssuer(),
      audience: config.jwtAudience(),
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['sub', 'exp', 'nbf', 'iat'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || typeof payload.sid !== 'string') {
      throw new Error('bad subject or session claim');
    }
    return { userId: payload.sub, sessionId: payload.sid, expiresAt: new Date((payload.exp ?? 0) * 1000) };
  } catch (e) {
    logger.debug('access token refused', { reason: (e as Error).message });
    throw unauthorized(e);
  }
}
