import { authRoutes } from './routes/auth.ts';
import { userRoutes } from './routes/users.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { auditRoutes } from './routes/audit.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { jobRoutes } from './routes/jobs.ts';

/** The route table. Everything (server, OpenAPI, client, CLI, UI) is derived from it. */
export const routes = {
  ...authRoutes,
  ...userRoutes,
  ...tokenRoutes,
  ...auditRoutes,
  ...nodeRoutes,
  ...jobRoutes,
};
export type Routes = typeof routes;
export type OperationId = keyof Routes;
