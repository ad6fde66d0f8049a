import type { HandlerMap } from '../handler.ts';
import { SESSION_COOKIE } from '../app.ts';
import { sendError } from '../errors.ts';
import type { Principal } from '../../services/auth.ts';

const view = (p: Principal) => ({
  userId: p.userId,
  username: p.username,
  role: p.role,
  via: p.via,
  ...(p.tokenId ? { tokenId: p.tokenId } : {}),
});

export const authHandlers: HandlerMap<'login' | 'logout' | 'whoami' | 'changeOwnPassword'> = {
  async login({ body, services, ip, req, reply }) {
    const { limiter, secure } = (req.server as any).grim;
    const wait = await limiter.retryAfter(ip, body.username);
    if (wait > 0) {
      await services.audit.record({
        actor: body.username,
        actorKind: 'anonymous',
        action: 'login.rate-limited',
        outcome: 'denied',
        ip,
      });
      reply.header('retry-after', String(wait));
      return sendError(
        reply,
        429,
        'rate_limited',
        `too many login attempts; try again in ${wait} s`,
      ) as never;
    }
    const user = await services.auth.checkPassword(body.username, body.password);
    await limiter.note(ip, body.username, !!user);
    if (!user) {
      await services.audit.record({
        actor: body.username,
        actorKind: 'anonymous',
        action: 'login.failed',
        outcome: 'failure',
        ip,
      });
      return sendError(reply, 401, 'unauthenticated', 'wrong username or password') as never;
    }
    const s = await services.auth.createSession(user);
    await services.audit.record({
      actor: user.username,
      actorKind: 'user',
      action: 'login',
      outcome: 'success',
      ip,
    });
    reply.setCookie(SESSION_COOKIE, s.sid, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/',
      expires: new Date(s.expiresAt),
    });
    return {
      user: { userId: user.id, username: user.username, role: user.role, via: 'session' as const },
      csrfToken: s.csrf,
      expiresAt: s.expiresAt,
    };
  },
  async logout({ services, req, reply }) {
    const sid = req.cookies?.[SESSION_COOKIE];
    if (sid) await services.auth.endSession(sid);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  },
  async whoami({ principal }) {
    return { user: view(principal), ...(principal.csrfToken ? { csrfToken: principal.csrfToken } : {}) };
  },
  async changeOwnPassword({ body, principal, services }) {
    await services.auth.changeOwnPassword(principal.userId, body.currentPassword, body.newPassword);
    return { ok: true };
  },
};
