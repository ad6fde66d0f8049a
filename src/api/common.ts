import Type, { type Static } from 'typebox';
import { ROLES } from '../domain/roles.ts';

/** Shared building blocks. Every string has a maxLength: over-long input is a 400, never a 500. */
export const Name = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'lowercase letters, digits and dashes; starts and ends with a letter or digit',
});
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const NameParams = Type.Object({ name: Name }, { additionalProperties: false });
export const RoleSchema = Type.Union(
  [Type.Literal('deployer'), Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')],
  {
    description:
      'viewer < operator < admin; deployer: a token that may only deploy the apps in its scope (pipelines)',
  },
);
/** Compile-time check that the schema lists exactly the domain's roles. */
export const _rolesMatch: (typeof ROLES)[number] extends Static<typeof RoleSchema> ? true : never = true;
export const Timestamp = Type.Integer({ description: 'milliseconds since the Unix epoch' });
export const Ok = Type.Object({ ok: Type.Boolean() });
export const Limit = Type.Integer({ minimum: 1, maximum: 1000 });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
  }),
});

/** Compile-time check that a schema and a domain list name the same values, both ways (`true` or a type error). */
export type SameValues<A, B> = [A, B] extends [B, A] ? true : never;
