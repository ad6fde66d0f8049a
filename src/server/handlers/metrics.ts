import type { HandlerMap } from '../handler.ts';

type Ops = 'getMetricSeries' | 'getCapacity' | 'getNodeTop';

export const metricHandlers: HandlerMap<Ops> = {
  getMetricSeries: async ({ query, services }) => services.metrics.series(query),
  getCapacity: async ({ query, services }) => services.metrics.capacity(query ?? {}),
  getNodeTop: async ({ query, services }) => ({ nodes: await services.metrics.nodeTop(query ?? {}) }),
};
