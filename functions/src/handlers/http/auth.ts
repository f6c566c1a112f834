import { authPorts } from '#adapters/auth/ports.ts';
import { enforce } from '#adapters/auth/rate-limit.ts';
import { requireActiveSession } from '#adapters/auth/sessions.ts';
import { getUser } from '#adapters/cql/users.ts';
import { issueTicket } from '#adapters/redis/tickets.ts';
import { LoginBody, LogoutBody, RefreshBody, SignupBody } from '#contracts/http.ts';
import { login, logout, refresh, signup } from '#core/auth.ts';
import { ChatError } from '#core/errors.ts';
import { created, httpRouter, noContent, ok, route } from '#transport/http.ts';

/** HTTP API: sign-up, login, refresh, logout, WebSocket tickets, me. */
export const handler = httpRouter('httpAuth', {
  'POST /auth/signup': route({
    auth: false,
    body: SignupBody,
    handle: async ({ body, sourceIp }) => created(await signup(authPorts, body, sourceIp)),
  }),
  'POST /auth/login': route({
    auth: false,
    body: LoginBody,
    handle: async ({ body, sourceIp }) => ok(await login(authPorts, body, sourceIp)),
  }),
  'POST /auth/refresh': route({
    auth: false,
    body: RefreshBody,
    handle: async ({ body }) => ok(await refresh(authPorts, body.refreshToken)),
  }),
  'POST /auth/logout': route({
    auth: false,
    body: LogoutBody,
    handle: async ({ body }) => {
      await logout(authPorts, body.refreshToken);
      return noContent();
    },
  }),
  'POST /auth/ws-ticket': route({
    auth: true,
    // The session checked at the source (not the ≤ 30 s cache): a socket must not outlive its logout.
    handle: async ({ userId, auth }) => {
      await enforce('wsTicketPerUser', userId);
      await requireActiveSession(auth.sessionId, { fresh: true });
      return ok(await issueTicket(userId, auth.sessionId));
    },
  }),
  'GET /me': route({
    auth: true,
    handle: async ({ userId }) => {
      const user = await getUser(userId);
      if (!user) throw new ChatError('unauthorized');
      return ok(user);
    },
  }),
});
