import { authRoutes } from './routes/auth.ts';
import { userRoutes } from './routes/users.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { auditRoutes } from './routes/audit.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { jobRoutes } from './routes/jobs.ts';
import { metricRoutes } from './routes/metrics.ts';
import { appRoutes } from './routes/apps.ts';
import { sizeRoutes } from './routes/sizes.ts';
import { controlPlaneRoutes } from './routes/control-plane.ts';
import { storageRoutes } from './routes/storage.ts';
import { seaweedRoutes } from './routes/seaweedfs.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { volumeRoutes } from './routes/volumes.ts';
import { alertRoutes } from './routes/alerts.ts';
import { sshRoutes } from './routes/ssh.ts';
import { monitoringStackRoutes } from './routes/monitoring-stack.ts';

/** The route table. Everything (server, OpenAPI, client, CLI, UI) is derived from it. */
export const routes = {
  ...authRoutes,
  ...userRoutes,
  ...tokenRoutes,
  ...auditRoutes,
  ...nodeRoutes,
  ...jobRoutes,
  ...metricRoutes,
  ...appRoutes,
  ...sizeRoutes,
  ...controlPlaneRoutes,
  ...storageRoutes,
  ...seaweedRoutes,
  ...pipelineRoutes,
  ...volumeRoutes,
  ...alertRoutes,
  ...sshRoutes,
  ...monitoringStackRoutes,
};
export type Routes = typeof routes;
export type OperationId = keyof Routes;
