import { randomBytes } from 'node:crypto';
import { exportSPKI, SignJWT } from 'jose';
import { generateKeyRecord, importKeySet, loadKeySet } from '#adapters/auth/keys.ts';
import { config } from '#platform/config.ts';

/**
 * The JWT attack suite: tokens for `sub` that a correct verifier must refuse, each named by its attack. Signed
 * with the real key set where the attack needs it (so only the one broken property makes it invalid).
 */
export async function forgedTokens(sub: string): Promise<Record<string, string>> {
  const set = await loadKeySet();
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    iss: config.jwtIssuer(),
    aud: config.jwtAudience(),
    sub,
    sid: 'forged',
    iat: now,
    nbf: now,
    exp: now + 600,
  };
  const sign = (
    over: Partial<typeof claims> & { typ?: string },
    key = set.signingKey,
    alg: string = set.signingAlg,
    kid: string = set.activeKid,
  ) => {
    const c = { ...claims, ...over };
    return new SignJWT({ sid: c.sid })
      .setProtectedHeader({ alg, kid, typ: over.typ ?? 'at+jwt' })
      .setIssuer(c.iss)
      .setAudience(c.aud)
      .setSubject(c.sub)
      .setIssuedAt(c.iat)
      .setNotBefore(c.nbf)
      .setExpirationTime(c.exp)
      .sign(key);
  };
  const publicPem = await exportSPKI(
    set.verifyKeys.get(set.activeKid)?.key as Parameters<typeof exportSPKI>[0],
  );
  const stranger = await importKeySet({
    activeKid: 'x',
    keys: [{ ...(await generateKeyRecord()), kid: 'x' }],
  });
  const good = await sign({});
  const [h, p, s] = good.split('.') as [string, string, string];
  return {
    algNone: `${b64({ alg: 'none', kid: set.activeKid, typ: 'at+jwt' })}.${b64(claims)}.`,
    hs256WithPublicKey: await sign({}, new TextEncoder().encode(publicPem) as never, 'HS256'),
    expired: await sign({ exp: now - 60, nbf: now - 120, iat: now - 120 }),
    nbfInFuture: await sign({ nbf: now + 300 }),
    wrongIss: await sign({ iss: 'https://evil.example' }),
    wrongAud: await sign({ aud: 'another-api' }),
    wrongTyp: await sign({ typ: 'JWT' }),
    tamperedPayload: `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: `${sub}x` })}.${s}`,
    unknownKid: await sign({}, stranger.signingKey, 'EdDSA', 'not-in-the-set'),
    foreignKeyKnownKid: await sign({}, stranger.signingKey),
    garbage: randomBytes(40).toString('base64url'),
    threeDots: 'a.b.c',
  };
}
