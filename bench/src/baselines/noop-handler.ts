/**
 * A no-op Lambda handler for the raw WebSocket echo baseline: `$connect` accepts everyone, a message route
 * returns the frame it got (the route has a route response, so the emulator sends it back). No I/O at all:
 * what remains is the emulator's own cost (socket, event building, execution environment round trip).
 */
interface WsEvent {
  requestContext?: { eventType?: string };
  body?: string;
}

export const handler = async (event: WsEvent): Promise<{ statusCode: number; body?: string }> => {
  if (event.requestContext?.eventType === 'MESSAGE') return { statusCode: 200, body: event.body ?? '' };
  return { statusCode: 200 };
};
