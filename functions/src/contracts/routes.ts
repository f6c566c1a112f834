/**
 * THE route table. CDK creates the WebSocket routes, HTTP routes, Kafka event source and schedule from it; the
 * local runtime dispatches from it. A test proves the synthesized template and the emulator agree.
 *
 * Each function is one Lambda: `entry` is its file under functions/src (it exports `handler`), `uses` lists
 * the backing services it needs so that CDK grants exactly those and nothing more.
 */

/**
 * `jwtSign`: the private JWT key set (signing; the auth function alone). `jwtVerify`: the public key set (JWKS)
 * every authenticated HTTP function verifies access tokens with.
 * `attachmentsUpload`: presigns PUTs under `pending/`; `attachmentsAttach`: reads `pending/`, writes the final
 * key and deletes the pending one; `attachmentsRead`: presigns GETs of final keys (docs/adr/0009-attachments.md).
 */
export type BackingService =
  | 'redis'
  | 'cql'
  | 'kafkaProduce'
  | 'push'
  | 'jwtSign'
  | 'jwtVerify'
  | 'attachmentsUpload'
  | 'attachmentsAttach'
  | 'attachmentsRead'
  /** (issue 15) Sends Web Push: the VAPID keys and egress to the push services' hosts. */
  | 'webPush';

export interface FunctionDef {
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly uses: readonly BackingService[];
}

export const functionDefs = {
  wsConnect: {
    entry: 'handlers/ws/connect.ts',
    description: 'WebSocket $connect: checks the one-time ticket, records the connection, announces presence',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'push'],
  },
  wsDisconnect: {
    entry: 'handlers/ws/disconnect.ts',
    description: 'WebSocket $disconnect: forgets the connection, offline presence when it was the last one',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'push'],
  },
  wsDefault: {
    entry: 'handlers/ws/default.ts',
    description: 'WebSocket $default: answers frames that match no route with an error frame',
    timeoutSeconds: 5,
    memoryMb: 256,
    uses: ['redis'],
  },
  wsSendMessage: {
    entry: 'handlers/ws/send-message.ts',
    description: 'WebSocket sendMessage: validates, authorizes, assigns an id, publishes to Kafka, acks',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'kafkaProduce', 'attachmentsAttach'],
  },
  wsChangeMessage: {
    entry: 'handlers/ws/change-message.ts',
    description:
      'WebSocket editMessage, deleteMessage, react: validates, authorizes against the stored message, publishes to Kafka, acks',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'kafkaProduce'],
  },
  wsTyping: {
    entry: 'handlers/ws/typing.ts',
    description: 'WebSocket typing: pushes an ephemeral typing event to the other members',
    timeoutSeconds: 5,
    memoryMb: 256,
    uses: ['redis', 'cql', 'push'],
  },
  wsMarkRead: {
    entry: 'handlers/ws/mark-read.ts',
    description: 'WebSocket markRead: moves the read pointer forward and tells the members',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'push'],
  },
  wsPing: {
    entry: 'handlers/ws/ping.ts',
    description: 'WebSocket ping: refreshes presence TTLs and answers pong',
    timeoutSeconds: 5,
    memoryMb: 256,
    uses: ['redis'],
  },
  persistFanout: {
    entry: 'handlers/kafka/persist-fanout.ts',
    description: 'Kafka consumer: persists messages idempotently and pushes them to every member',
    timeoutSeconds: 60,
    memoryMb: 1024,
    uses: ['redis', 'cql', 'push', 'kafkaProduce', 'attachmentsRead'],
  },
  sweeper: {
    entry: 'handlers/schedule/sweeper.ts',
    description: 'Scheduled: removes connections whose TTL lapsed and announces offline presence',
    timeoutSeconds: 60,
    memoryMb: 512,
    uses: ['redis', 'cql', 'push'],
  },
  httpAuth: {
    entry: 'handlers/http/auth.ts',
    description: 'HTTP API: sign-up, login, refresh, logout, WebSocket tickets, me',
    timeoutSeconds: 10,
    memoryMb: 1024,
    // push: a revoked session's sockets are closed (DeleteConnection) by the request that revokes it.
    uses: ['redis', 'cql', 'jwtSign', 'jwtVerify', 'push'],
  },
  httpConversations: {
    entry: 'handlers/http/conversations.ts',
    description: 'HTTP API: conversations, history, read pointers, receipts',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'push', 'jwtVerify', 'attachmentsRead'],
  },
  httpAttachments: {
    entry: 'handlers/http/attachments.ts',
    description: 'HTTP API: attachment uploads (presigned S3 PUTs)',
    timeoutSeconds: 10,
    memoryMb: 256,
    uses: ['redis', 'cql', 'jwtVerify', 'attachmentsUpload'],
  },
  httpNotifications: {
    entry: 'handlers/http/notifications.ts',
    description: 'HTTP API: Web Push subscriptions, notification settings, per-conversation mute',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'jwtVerify'],
  },
  webPush: {
    entry: 'handlers/kafka/web-push.ts',
    description: 'Kafka consumer: sends Web Push notifications to members who were offline for a message',
    timeoutSeconds: 60,
    memoryMb: 512,
    uses: ['redis', 'cql', 'kafkaProduce', 'webPush'],
  },
  httpDirectory: {
    entry: 'handlers/http/directory.ts',
    description: 'HTTP API: user directory and presence snapshot',
    timeoutSeconds: 10,
    memoryMb: 512,
    uses: ['redis', 'cql', 'jwtVerify'],
  },
} as const satisfies Record<string, FunctionDef>;

export type FunctionName = keyof typeof functionDefs;

export interface WsRoute {
  readonly routeKey: string;
  readonly fn: FunctionName;
  /** true ⇒ the handler's result body is sent back to the caller (API Gateway route response `$default`). */
  readonly returnResponse: boolean;
}

/** WebSocket API routes. Route selection expression: `$request.body.action`. */
export const wsRoutes = [
  { routeKey: '$connect', fn: 'wsConnect', returnResponse: false },
  { routeKey: '$disconnect', fn: 'wsDisconnect', returnResponse: false },
  { routeKey: '$default', fn: 'wsDefault', returnResponse: true },
  { routeKey: 'sendMessage', fn: 'wsSendMessage', returnResponse: true },
  { routeKey: 'editMessage', fn: 'wsChangeMessage', returnResponse: true },
  { routeKey: 'deleteMessage', fn: 'wsChangeMessage', returnResponse: true },
  { routeKey: 'react', fn: 'wsChangeMessage', returnResponse: true },
  { routeKey: 'typing', fn: 'wsTyping', returnResponse: true },
  { routeKey: 'markRead', fn: 'wsMarkRead', returnResponse: true },
  { routeKey: 'ping', fn: 'wsPing', returnResponse: true },
] as const satisfies readonly WsRoute[];

export const wsRouteSelectionExpression = '$request.body.action';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface HttpRoute {
  readonly method: HttpMethod;
  /** API Gateway HTTP API path, with `{param}` placeholders. */
  readonly path: string;
  readonly fn: FunctionName;
  /** false ⇒ no access token needed. */
  readonly auth: boolean;
}

export const httpRoutes = [
  { method: 'POST', path: '/auth/signup', fn: 'httpAuth', auth: false },
  { method: 'POST', path: '/auth/login', fn: 'httpAuth', auth: false },
  { method: 'POST', path: '/auth/refresh', fn: 'httpAuth', auth: false },
  { method: 'POST', path: '/auth/logout', fn: 'httpAuth', auth: false },
  { method: 'POST', path: '/auth/ws-ticket', fn: 'httpAuth', auth: true },
  { method: 'GET', path: '/me', fn: 'httpAuth', auth: true },
  { method: 'GET', path: '/users', fn: 'httpDirectory', auth: true },
  { method: 'GET', path: '/presence', fn: 'httpDirectory', auth: true },
  { method: 'POST', path: '/conversations', fn: 'httpConversations', auth: true },
  { method: 'GET', path: '/conversations', fn: 'httpConversations', auth: true },
  { method: 'GET', path: '/conversations/{id}', fn: 'httpConversations', auth: true },
  { method: 'POST', path: '/conversations/{id}/members', fn: 'httpConversations', auth: true },
  { method: 'GET', path: '/conversations/{id}/members', fn: 'httpConversations', auth: true },
  { method: 'GET', path: '/conversations/{id}/messages', fn: 'httpConversations', auth: true },
  { method: 'POST', path: '/conversations/{id}/read', fn: 'httpConversations', auth: true },
  { method: 'GET', path: '/conversations/{id}/receipts', fn: 'httpConversations', auth: true },
  { method: 'POST', path: '/conversations/{id}/attachments', fn: 'httpAttachments', auth: true },
  // (added, issue 15) notifications
  { method: 'POST', path: '/me/push-subscriptions', fn: 'httpNotifications', auth: true },
  { method: 'DELETE', path: '/me/push-subscriptions', fn: 'httpNotifications', auth: true },
  { method: 'GET', path: '/me/settings', fn: 'httpNotifications', auth: true },
  { method: 'PUT', path: '/me/settings', fn: 'httpNotifications', auth: true },
  { method: 'PUT', path: '/conversations/{id}/settings', fn: 'httpNotifications', auth: true },
] as const satisfies readonly HttpRoute[];

/** `METHOD /path` as API Gateway HTTP API writes a route key. */
export const httpRouteKey = (r: Pick<HttpRoute, 'method' | 'path'>): string => `${r.method} ${r.path}`;

export interface KafkaConsumerDef {
  readonly fn: FunctionName;
  readonly topic: 'messages' | 'notifications';
  /** Records per invocation (ESM BatchSize). */
  readonly batchSize: number;
  /** ESM MaximumBatchingWindowInSeconds: 0 for chat latency. */
  readonly batchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

export const kafkaConsumers = [
  {
    fn: 'persistFanout',
    topic: 'messages',
    batchSize: 100,
    batchingWindowSeconds: 0,
    startingPosition: 'TRIM_HORIZON',
  },
  {
    // (issue 15) Web Push for members who were offline: its own consumer, so a slow push service never holds
    // the messages topic (docs/adr/0010-web-push.md).
    fn: 'webPush',
    topic: 'notifications',
    batchSize: 100,
    batchingWindowSeconds: 0,
    startingPosition: 'TRIM_HORIZON',
  },
] as const satisfies readonly KafkaConsumerDef[];

export interface ScheduleDef {
  readonly fn: FunctionName;
  readonly everySeconds: number;
}

export const schedules = [{ fn: 'sweeper', everySeconds: 60 }] as const satisfies readonly ScheduleDef[];
