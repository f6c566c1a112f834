/**
 * Test fixture for message routes. The frame's JSON tells it what to do: `throw`, `sleepMs`, `push` (posts to
 * its own connection through the real management API client), `echoEvent` (returns the event it got).
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';

let count = 0;
let client: ApiGatewayManagementApiClient | undefined;

interface MessageEvent {
  readonly body: string;
  readonly requestContext: { readonly routeKey: string; readonly connectionId: string };
}

export const handler = async (event: MessageEvent) => {
  count += 1;
  let frame: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(event.body);
    if (parsed !== null && typeof parsed === 'object') frame = parsed as Record<string, unknown>;
  } catch {
    // not JSON: that is what $default is for
  }
  if (frame.throw) throw new Error('message handler failed on purpose');
  if (typeof frame.sleepMs === 'number') await delay(frame.sleepMs as number);
  if (frame.push !== undefined) {
    client ??= new ApiGatewayManagementApiClient({ endpoint: process.env.WS_MANAGEMENT_ENDPOINT });
    await client.send(
      new PostToConnectionCommand({
        ConnectionId: event.requestContext.connectionId,
        Data: new TextEncoder().encode(JSON.stringify({ pushed: frame.push })),
      }),
    );
  }
  if (frame.noBody) return { statusCode: 200 };
  return {
    statusCode: 200,
    body: JSON.stringify({
      routeKey: event.requestContext.routeKey,
      count,
      seq: frame.seq,
      ...(frame.echoEvent ? { event } : {}),
    }),
  };
};
