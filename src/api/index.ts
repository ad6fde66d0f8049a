import { authRoutes } from './routes/auth.ts';
import { userRoutes } from './routes/users.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { auditRoutes } from './routes/audit.ts';

/** The route table. Everything (server, OpenAPI, client, CLI, UI) is derived from it. */
export const routes = {
  ...authRoutes,
  ...userRoutes,
  ...tokenRoutes,
  ...auditRoutes,
};
export type Routes = typeof routes;
export type OperationId = keyof Routes;
