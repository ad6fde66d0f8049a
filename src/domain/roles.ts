/** Roles are ordered: each one can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** A token's role can never exceed its owner's role. */
export function effectiveRole(userRole: Role, tokenRole: Role): Role {
  return roleAtLeast(userRole, tokenRole) ? tokenRole : userRole;
}
