import Type from 'typebox';
import { route } from '../route.ts';
import { IdParams, Ok, RoleSchema, Timestamp } from '../common.ts';

const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9._-]*$' });
const Password = Type.String({ minLength: 12, maxLength: 1024, description: 'at least 12 characters' });

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  disabled: Type.Boolean(),
  createdAt: Timestamp,
});

export const userRoutes = {
  listUsers: route({
    method: 'GET',
    path: '/api/users',
    summary: 'List users',
    tag: 'users',
    role: 'admin',
    response: Type.Object({ users: Type.Array(User) }),
  }),
  createUser: route({
    method: 'POST',
    path: '/api/users',
    summary: 'Create a user',
    tag: 'users',
    role: 'admin',
    status: 201,
    body: Type.Object(
      { username: Username, password: Password, role: RoleSchema },
      { additionalProperties: false },
    ),
    response: Type.Object({ user: User }),
  }),
  updateUser: route({
    method: 'PATCH',
    path: '/api/users/:id',
    summary: 'Change a user: role, password, disabled',
    tag: 'users',
    role: 'admin',
    params: IdParams,
    body: Type.Object(
      {
        role: Type.Optional(RoleSchema),
        password: Type.Optional(Password),
        disabled: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    response: Type.Object({ user: User }),
  }),
  deleteUser: route({
    method: 'DELETE',
    path: '/api/users/:id',
    summary: 'Delete a user (their sessions and tokens go with them)',
    tag: 'users',
    role: 'admin',
    params: IdParams,
    response: Ok,
  }),
  changeOwnPassword: route({
    method: 'POST',
    path: '/api/auth/password',
    summary: 'Change your own password',
    tag: 'auth',
    role: 'viewer',
    body: Type.Object(
      { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password },
      { additionalProperties: false },
    ),
    response: Ok,
  }),
};
