import { createContext, useContext } from 'react';
import type { Output } from '../api/route.ts';
import type { Routes } from '../api/index.ts';
import { roleAtLeast, type Role } from '../domain/roles.ts';

export type Principal = Output<Routes['whoami']>['user'];

export interface Session {
  user: Principal;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a logged-in page');
  return s;
}

/** Whether the logged-in user may use controls that need `role` (the server enforces it anyway). */
export function useCan(role: Role): boolean {
  return roleAtLeast(useSession().user.role, role);
}
