/**
 * Test fixture for the HTTP API: `?mode=` chooses the result shape (full response, plain object, string,
 * cookies, base64, malformed, throw); by default it returns the event it received as JSON.
 */
interface HttpEvent {
  readonly queryStringParameters?: Record<string, string>;
  readonly body?: string;
}

export const handler = async (event: HttpEvent) => {
  const mode = event.queryStringParameters?.mode;
  switch (mode) {
    case 'plain':
      return { hello: 'world' };
    case 'string':
      return 'just text';
    case 'cookies':
      return {
        statusCode: 201,
        cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
        body: '',
        headers: { 'x-extra': 'y' },
      };
    case 'base64':
      return { statusCode: 200, isBase64Encoded: true, body: Buffer.from('binary!').toString('base64') };
    case 'malformed':
      return { statusCode: 200, body: { not: 'a string' } };
    case 'cors':
      return { statusCode: 200, headers: { 'access-control-allow-origin': '*' }, body: '{}' };
    case 'throw':
      throw new Error('http handler failed on purpose');
    case 'error':
      return {
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'not_found', message: 'no such thing' } }),
      };
    default:
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      };
  }
};
