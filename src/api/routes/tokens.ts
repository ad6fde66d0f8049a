import Type from 'typebox';
import { route } from '../route.ts';
import { IdParams, Ok, RoleSchema, Timestamp } from '../common.ts';

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  prefix: Type.String({ description: 'the first characters of the token, to recognise it' }),
  username: Type.String(),
  apps: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'deployer tokens: the only apps they may deploy',
  }),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});

export const tokenRoutes = {
  listTokens: route({
    method: 'GET',
    path: '/api/tokens',
    summary: 'List API tokens (yours; admins see all)',
    tag: 'tokens',
    role: 'viewer',
    response: Type.Object({ tokens: Type.Array(ApiToken) }),
  }),
  createToken: route({
    method: 'POST',
    path: '/api/tokens',
    summary: 'Create an API token; the secret is shown once',
    tag: 'tokens',
    role: 'viewer',
    status: 201,
    body: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 64 }),
        role: RoleSchema,
        expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        apps: Type.Optional(
          Type.Array(
            Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' }),
            {
              minItems: 1,
              maxItems: 256,
              uniqueItems: true,
              description: 'required for (and only for) role deployer: the apps the token may deploy',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ token: ApiToken, secret: Type.String() }),
  }),
  revokeToken: route({
    method: 'DELETE',
    path: '/api/tokens/:id',
    summary: 'Revoke an API token',
    tag: 'tokens',
    role: 'viewer',
    params: IdParams,
    response: Ok,
  }),
};
