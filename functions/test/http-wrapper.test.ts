import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { limits } from '#contracts/limits.ts';
import { ChatError } from '#core/errors.ts';
import { type HttpResult, httpRouter, noContent, ok, route } from '#transport/http.ts';
import { httpEvent } from './support/http-api.ts';

// The wrapper alone: routes of the httpAuth function replaced by probes (no services touched).
const echo = z.object({ text: z.string().max(10) });
const probe = (handle: () => Promise<HttpResult>) => route({ auth: false, body: echo, handle });

const handler = httpRouter('httpAuth', {
  'POST /auth/signup': route({ auth: false, body: echo, handle: async ({ body }) => ok({ got: body.text }) }),
  'POST /auth/login': probe(async () => {
    throw new Error('secret stack detail: password=hunter2');
  }),
  'POST /auth/refresh': probe(async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9042'), { code: 'ECONNREFUSED' });
  }),
  'POST /auth/logout': probe(async () => noContent()),
  'POST /auth/ws-ticket': route({ auth: true, handle: async () => ok({}) }),
  'GET /me': route({
    auth: true,
    handle: async () => {
      throw new ChatError('not_found');
    },
  }),
});

const call = async (method: string, path: string, options: Parameters<typeof httpEvent>[2] = {}) => {
  const res = await handler(httpEvent(method, path, options));
  return { ...res, json: res.body ? JSON.parse(res.body) : null };
};

describe('transport/http wrapper', () => {
  it('parses and validates the body, answering JSON', async () => {
    const res = await call('POST', '/auth/signup', { body: { text: 'hi' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.json).toEqual({ got: 'hi' });
  });

  it('decodes base64 bodies', async () => {
    const event = httpEvent('POST', '/auth/signup');
    const res = await handler({
      ...event,
      body: Buffer.from('{"text":"b64"}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(JSON.parse(res.body ?? '')).toEqual({ got: 'b64' });
  });

  it('maps bad input: invalid JSON, schema failures with details, empty body', async () => {
    const bad = await call('POST', '/auth/signup', { rawBody: '{nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json.error.code).toBe('invalid_json_body');
    const invalid = await call('POST', '/auth/signup', { body: { text: 'far too long text' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'body.text' }] });
    const empty = await call('POST', '/auth/signup', { rawBody: '' });
    expect(empty.json.error.code).toBe('validation_failed');
    const array = await call('POST', '/auth/signup', { rawBody: '[1,2]' });
    expect(array.json.error.code).toBe('validation_failed');
  });

  it('refuses a body over the limit with 413, and accepts one at the limit', async () => {
    const at = `{"text":"x"}${' '.repeat(limits.httpBodyMaxBytes - 12)}`;
    expect(Buffer.byteLength(at)).toBe(limits.httpBodyMaxBytes);
    expect((await call('POST', '/auth/signup', { rawBody: at })).statusCode).toBe(200);
    const over = await call('POST', '/auth/signup', { rawBody: `${at} ` });
    expect(over.statusCode).toBe(413);
    expect(over.json.error.code).toBe('payload_too_large');
    const multibyte = await call('POST', '/auth/signup', {
      rawBody: `{"text":"${'é'.repeat(limits.httpBodyMaxBytes / 2)}"}`,
    });
    expect(multibyte.statusCode).toBe(413);
  });

  it('hides internal errors behind 500 internal, and maps outages to 503', async () => {
    const internal = await call('POST', '/auth/login', { body: { text: 'x' } });
    expect(internal.statusCode).toBe(500);
    expect(internal.json).toEqual({
      error: { code: 'internal', message: 'Something went wrong on our side.' },
    });
    expect(internal.body).not.toContain('hunter2');
    const outage = await call('POST', '/auth/refresh', { body: { text: 'x' } });
    expect(outage.statusCode).toBe(503);
    expect(outage.json.error.code).toBe('unavailable');
  });

  it('answers 204 without a body', async () => {
    const res = await call('POST', '/auth/logout', { body: { text: 'x' } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBeUndefined();
  });

  it('checks auth before reading the body; ChatErrors keep their status', async () => {
    const noToken = await call('POST', '/auth/ws-ticket', { rawBody: '{broken' });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json.error.code).toBe('unauthorized');
    const unknown = await handler({ ...httpEvent('GET', '/me'), routeKey: 'GET /nowhere' });
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body ?? '').error.code).toBe('route_not_found');
  });

  it('refuses to build a router that disagrees with the route table', () => {
    const noop = route({ auth: true, handle: async () => ok({}) });
    expect(() =>
      httpRouter('httpDirectory', {
        'GET /users': noop,
        'GET /presence': route({ auth: false, handle: async () => ok({}) }),
      }),
    ).toThrow(/GET \/presence auth must be true/);
    expect(() => httpRouter('httpDirectory', { 'GET /users': noop } as never)).toThrow(
      /no handler for GET \/presence/,
    );
  });
});
