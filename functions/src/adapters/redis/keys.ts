import { createHash } from 'node:crypto';

/**
 * Every Redis key the functions use, in one place, so the slot discipline can be checked (keys.test.ts).
 *
 * Redis runs in CLUSTER mode locally and on AWS (ElastiCache Serverless): a multi-key command, a MULTI, a Lua
 * script and an ioredis Cluster pipeline must touch ONE hash slot, else CROSSSLOT. The slot of a key is the CRC16
 * of its hash tag (the text between the first `{` and the next `}`), so keys that are used together carry the
 * same tag:
 *
 * | tag                 | keys                                                        | used together in            |
 * |---------------------|-------------------------------------------------------------|-----------------------------|
 * | `{<connectionId>}`  | `ws:conn:{c}`, `ws:rate:{c}:<scope>:<second>`               | MULTI HSET+PEXPIRE, INCR+EXPIRE, the FRAME script (frameKeys) |
 * | `{<userId>}`        | `ws:user:{u}:conns`, `ws:user:{u}:seen`                     | MULTI on conns, Lua refresh, presence of one user |
 * | `{<conversationId>}`| `ws:pushed:{v}:<messageId>`, `ws:cmid:{v}:<sender>:<cmid>`  | MGET and pipeline of markers |
 * | `{<userId>}`        | `wp:sent:{u}:<messageId>:<endpointId>` (issue 15)           | MGET of one user's devices  |
 * | `{<sha of subject>}`| `rl:<limit>:{…}`, `rl:login:pair:{…}`                       | one single-key script per budget (never two in one) |
 * | none (one key)      | `ws:expiry`, `ws:ticket:<sha>`                              | single-key commands only    |
 *
 * Nothing spans two tags in one command: work over many users (connectionsOf, presenceOf) is one command per
 * key, which ioredis auto-pipelines per node (one round trip per node, whatever the slots).
 */

const sha = (s: string, length?: number) => {
  const d = createHash('sha256').update(s, 'utf8').digest('base64url');
  return length ? d.slice(0, length) : d;
};

/** Connection → owner hash. */
export const connKey = (connectionId: string) => `ws:conn:{${connectionId}}`;
/** Fixed-window counter of one connection (`scope`: frames, typing:<conversationId>…). */
export const connRateKey = (connectionId: string, scope: string, second: number) =>
  `ws:rate:{${connectionId}}:${scope}:${second}`;
/**
 * The keys of the per-frame script (connections.ts, admitFrame): the connection's hash and its frame counter
 * for the current second. One tag, so one slot: the owner, the frame rate and the presence refresh decision
 * are one round trip.
 */
export const frameKeys = (connectionId: string, second: number): [string, string] => [
  connKey(connectionId),
  connRateKey(connectionId, 'frames', second),
];
/** Sorted set connectionId → expiry: a user's connections. */
export const userConnsKey = (userId: string) => `ws:user:{${userId}}:conns`;
/** When a user was last seen. */
export const seenKey = (userId: string) => `ws:user:{${userId}}:seen`;
/** Sorted set connectionId → expiry: the sweeper's work list. One key, single-key commands only. */
export const EXPIRY_KEY = 'ws:expiry';
/** One-time WebSocket ticket, by the SHA-256 of the ticket. Single-key commands only. */
export const ticketKey = (ticket: string) => `ws:ticket:${sha(ticket)}`;
/** Fan-out marker of one message. */
export const pushedKey = (conversationId: string, messageId: string) =>
  `ws:pushed:{${conversationId}}:${messageId}`;
/** (issue 15) A Web Push notification of one message already sent to one of a user's devices. */
export const webPushSentKey = (userId: string, messageId: string, endpointId: string) =>
  `wp:sent:{${userId}}:${messageId}:${endpointId}`;
/** Send-side dedupe of a client message id. */
export const clientMsgKey = (conversationId: string, senderId: string, clientMsgId: string) =>
  `ws:cmid:{${conversationId}}:${senderId}:${clientMsgId}`;
/**
 * A per-person budget (contracts/limits.ts `rateLimitDefaults`): one counter per limit and subject (user id or
 * client IP). The subject is a digest (no IP in clear in Redis) and the key's own hash tag, so the counter is
 * one key in one slot: a single-key script (INCRBY + PEXPIRE), never combined with another key.
 */
export const rateKey = (limit: string, subject: string) => `rl:${limit}:{${sha(subject, 22)}}`;
/**
 * Failed logins of one (username, client IP) pair: a hash { failures, until } with the pair's growing delay.
 * One key, its own tag: single-key scripts only.
 */
export const loginPairKey = (username: string, ip: string) =>
  `rl:login:pair:{${sha(`${username.toLowerCase()}\n${ip}`, 22)}}`;
