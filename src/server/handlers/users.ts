import type { HandlerMap } from '../handler.ts';

export const userHandlers: HandlerMap<'listUsers' | 'createUser' | 'updateUser' | 'deleteUser'> = {
  async listUsers({ services }) {
    return { users: await services.auth.listUsers() };
  },
  async createUser({ body, services }) {
    return { user: await services.auth.createUser(body.username, body.password, body.role) };
  },
  async updateUser({ params, body, services }) {
    return { user: await services.auth.updateUser(params.id, body) };
  },
  async deleteUser({ params, services }) {
    await services.auth.deleteUser(params.id);
    return { ok: true };
  },
};
