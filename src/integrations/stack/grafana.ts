/**
 * Grafana provisioning grim generates: datasources for Cortex (Prometheus API, tenant header), Loki and Tempo
 * with trace <-> logs links (Tempo's tracesToLogsV2 points at Loki; Loki's derived field turns a trace_id in
 * a log line into a link to Tempo), and a dashboard provider for the dashboards in dashboards.ts.
 */
export const DATASOURCE_UIDS = { cortex: 'grim-cortex', loki: 'grim-loki', tempo: 'grim-tempo' } as const;

export interface GrafanaSettings {
  cortexUrl: string;
  lokiUrl: string;
  tempoUrl: string;
  tenant: string;
  dashboardsDir: string;
}

export function grafanaDatasources(s: GrafanaSettings): Record<string, unknown> {
  const tenantHeader = {
    jsonData: { httpHeaderName1: 'X-Scope-OrgID' },
    secureJsonData: { httpHeaderValue1: s.tenant },
  };
  return {
    apiVersion: 1,
    deleteDatasources: [],
    datasources: [
      {
        name: 'Cortex',
        uid: DATASOURCE_UIDS.cortex,
        type: 'prometheus',
        access: 'proxy',
        url: `${s.cortexUrl.replace(/\/+$/, '')}/prometheus`,
        isDefault: true,
        editable: false,
        jsonData: { ...tenantHeader.jsonData, httpMethod: 'POST', prometheusType: 'Cortex' },
        secureJsonData: tenantHeader.secureJsonData,
      },
      {
        name: 'Loki',
        uid: DATASOURCE_UIDS.loki,
        type: 'loki',
        access: 'proxy',
        url: s.lokiUrl,
        editable: false,
        jsonData: {
          ...tenantHeader.jsonData,
          maxLines: 5000,
          derivedFields: [
            {
              name: 'trace_id',
              matcherRegex: 'trace_id=(\\w+)',
              datasourceUid: DATASOURCE_UIDS.tempo,
              url: '$${__value.raw}',
            },
          ],
        },
        secureJsonData: tenantHeader.secureJsonData,
      },
      {
        name: 'Tempo',
        uid: DATASOURCE_UIDS.tempo,
        type: 'tempo',
        access: 'proxy',
        url: s.tempoUrl,
        editable: false,
        jsonData: {
          ...tenantHeader.jsonData,
          tracesToLogsV2: {
            datasourceUid: DATASOURCE_UIDS.loki,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            filterByTraceID: false,
            filterBySpanID: false,
            customQuery: true,
            query: '{app="${__span.tags["grim.app"]}"}',
          },
          serviceMap: { datasourceUid: DATASOURCE_UIDS.cortex },
          lokiSearch: { datasourceUid: DATASOURCE_UIDS.loki },
        },
        secureJsonData: tenantHeader.secureJsonData,
      },
    ],
  };
}

export function grafanaDashboardProvider(s: GrafanaSettings): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'grim',
        folder: 'grim',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: s.dashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  };
}
