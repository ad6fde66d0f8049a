import type { HandlerMap } from '../handler.ts';
import type { StackReleaseRow } from '../../store/monitoring-stack-repo.ts';

type Ops =
  | 'listMonitoringReleases'
  | 'addMonitoringRelease'
  | 'planMonitoring'
  | 'enableMonitoring'
  | 'listMonitoringStacks'
  | 'disableMonitoring';

const releaseView = (r: StackReleaseRow) => ({
  component: r.component,
  version: r.version,
  sha256: r.sha256,
  sizeBytes: r.size_bytes,
  kind: r.kind,
  entry: r.entry,
  source: r.source,
  recordedAt: r.recorded_at,
});

export const monitoringStackHandlers: HandlerMap<Ops> = {
  listMonitoringReleases: async ({ services }) => ({
    releases: (await services.monitoringStack.releases.list()).map(releaseView),
  }),
  addMonitoringRelease: async ({ body, services, req }) => {
    const release = releaseView(await services.monitoringStack.releases.record(body));
    req.auditDetails = { component: release.component, version: release.version, sha256: release.sha256 };
    return { release };
  },
  planMonitoring: async ({ body, services }) => services.monitoringStack.plan(body),
  enableMonitoring: async ({ body, services, principal, req }) => {
    req.auditDetails = { ...body };
    return services.monitoringStack.enable(body, principal.username);
  },
  listMonitoringStacks: async ({ services }) => ({ stacks: await services.monitoringStack.list() }),
  disableMonitoring: async ({ params, services, principal }) =>
    services.monitoringStack.disable(params.environment, principal.username),
};
