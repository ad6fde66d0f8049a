import type { Handlers } from '../handler.ts';
import { authHandlers } from './auth.ts';
import { userHandlers } from './users.ts';
import { tokenHandlers } from './tokens.ts';
import { auditHandlers } from './audit.ts';
import { nodeHandlers } from './nodes.ts';
import { jobHandlers } from './jobs.ts';
import { metricHandlers } from './metrics.ts';
import { appHandlers } from './apps.ts';
import { ipamHandlers } from './ipam.ts';
import { controlPlaneHandlers } from './control-plane.ts';
import { storageHandlers } from './storage.ts';
import { seaweedHandlers } from './seaweedfs.ts';
import { pipelineHandlers } from './pipelines.ts';
import { volumeHandlers } from './volumes.ts';
import { alertHandlers } from './alerts.ts';
import { sshHandlers } from './ssh.ts';
import { monitoringStackHandlers } from './monitoring-stack.ts';

/** Every operation in the route table has exactly one handler (the type checks it). */
export const handlers: Handlers = {
  ...authHandlers,
  ...userHandlers,
  ...tokenHandlers,
  ...auditHandlers,
  ...nodeHandlers,
  ...jobHandlers,
  ...metricHandlers,
  ...appHandlers,
  ...ipamHandlers,
  ...controlPlaneHandlers,
  ...storageHandlers,
  ...seaweedHandlers,
  ...pipelineHandlers,
  ...volumeHandlers,
  ...alertHandlers,
  ...sshHandlers,
  ...monitoringStackHandlers,
};
