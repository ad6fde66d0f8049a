import type { HandlerMap } from '../handler.ts';

export const tokenHandlers: HandlerMap<'listTokens' | 'createToken' | 'revokeToken'> = {
  async listTokens({ principal, services }) {
    return { tokens: await services.auth.listTokens(principal) };
  },
  async createToken({ body, principal, services }) {
    return services.auth.createToken(principal, body.name, body.role, body.expiresInDays, body.apps);
  },
  async revokeToken({ params, principal, services }) {
    await services.auth.revokeToken(principal, params.id);
    return { ok: true };
  },
};
