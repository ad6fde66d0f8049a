import Type from 'typebox';
import { route } from '../route.ts';
import { Ok, RoleSchema, Timestamp } from '../common.ts';

export const Principal = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  tokenId: Type.Optional(Type.String()),
});

export const authRoutes = {
  login: route({
    method: 'POST',
    path: '/api/auth/login',
    summary: 'Log in with username and password; sets a session cookie and returns the CSRF token',
    tag: 'auth',
    role: 'public',
    body: Type.Object(
      {
        username: Type.String({ minLength: 1, maxLength: 64 }),
        password: Type.String({ minLength: 1, maxLength: 1024 }),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ user: Principal, csrfToken: Type.String(), expiresAt: Timestamp }),
  }),
  logout: route({
    method: 'POST',
    path: '/api/auth/logout',
    summary: 'End the current session',
    tag: 'auth',
    role: 'viewer',
    response: Ok,
  }),
  whoami: route({
    method: 'GET',
    path: '/api/auth/whoami',
    summary: 'Who the caller is, and the CSRF token of a cookie session',
    tag: 'auth',
    role: 'viewer',
    response: Type.Object({ user: Principal, csrfToken: Type.Optional(Type.String()) }),
  }),
};
