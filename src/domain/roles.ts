/**
 * Roles are ordered: each one can do everything the ones before it can. `deployer` sits below `viewer` and may
 * read nothing: it exists for pipeline tokens, which may call only the routes marked for deployers (deploying an
 * app), and only for the apps named in the token's scope.
 */
export const ROLES = ['deployer', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** A token's role can never exceed its owner's role. */
export function effectiveRole(userRole: Role, tokenRole: Role): Role {
  return roleAtLeast(userRole, tokenRole) ? tokenRole : userRole;
}

/**
 * May a caller with `role` (and, for deployers, the app scope of its token) call a route needing `need`?
 * Deployers pass only routes that allow them, and only for an app (`target`) in their scope.
 */
export function mayCall(
  role: Role,
  need: Role,
  route: { allowsDeployer: boolean; target: string | null },
  scope: readonly string[] | null,
): boolean {
  if (role === 'deployer')
    return route.allowsDeployer && route.target !== null && !!scope && scope.includes(route.target);
  return roleAtLeast(role, need);
}
