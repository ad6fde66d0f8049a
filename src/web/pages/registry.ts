import { lazy, type ComponentType } from 'react';
import { OverviewPage } from './overview/OverviewPage.tsx';
import { NodesPage } from './nodes/NodesPage.tsx';
import { NodePage } from './nodes/NodePage.tsx';
import { AddNodePage } from './nodes/AddNodePage.tsx';
import { UpdatePage } from './updates/UpdatePage.tsx';
import { RunPage } from './run/RunPage.tsx';
import { AppsPage } from './apps/AppsPage.tsx';
import { AppPage } from './apps/AppPage.tsx';
import { DeployPage } from './apps/DeployPage.tsx';
import { VolumesPage } from './volumes/VolumesPage.tsx';
import { JobsPage } from './jobs/JobsPage.tsx';
import { JobPage } from './jobs/JobPage.tsx';
import { AuditPage } from './audit/AuditPage.tsx';
import { UsersPage } from './users/UsersPage.tsx';
import { SettingsPage } from './settings/SettingsPage.tsx';
import { StoragePage } from './storage/StoragePage.tsx';
import { StorageNodePage } from './storage/StorageNodePage.tsx';
import { StorageClustersPage } from './storage-clusters/StorageClustersPage.tsx';
import { StorageClusterPage } from './storage-clusters/StorageClusterPage.tsx';
import { PipelinesPage } from './pipelines/PipelinesPage.tsx';
import { AlertsPage } from './alerts/AlertsPage.tsx';

// xterm.js is large: the terminal page loads on first use, not with every page.
const TerminalPage = lazy(() =>
  import('./terminal/TerminalPage.tsx').then((m) => ({ default: m.TerminalPage })),
);

/** What a page gets from its path, e.g. { name: 'n1' } for /nodes/n1. */
export interface PageProps {
  params: Record<string, string>;
}

export interface PageEntry {
  path: string;
  label: string;
  component: ComponentType<PageProps>;
}

/** The left navigation, in order; each entry is one page folder. */
export const PAGES: PageEntry[] = [
  { path: '/', label: 'Overview', component: OverviewPage },
  { path: '/nodes', label: 'Nodes', component: NodesPage },
  { path: '/run', label: 'Run', component: RunPage },
  { path: '/apps', label: 'Apps', component: AppsPage },
  { path: '/volumes', label: 'Volumes', component: VolumesPage },
  { path: '/storage', label: 'Storage', component: StoragePage },
  { path: '/storage-clusters', label: 'Storage clusters', component: StorageClustersPage },
  { path: '/pipelines', label: 'Pipelines', component: PipelinesPage },
  { path: '/alerts', label: 'Alerts', component: AlertsPage },
  { path: '/jobs', label: 'Jobs', component: JobsPage },
  { path: '/audit', label: 'Audit', component: AuditPage },
  { path: '/users', label: 'Users & tokens', component: UsersPage },
  { path: '/settings', label: 'Settings', component: SettingsPage },
];

/** Pages below a navigation entry: the pattern, and which entry is highlighted while they show. */
const DETAIL_PAGES: Array<{ pattern: string; nav: string; component: ComponentType<PageProps> }> = [
  { pattern: '/nodes/add', nav: '/nodes', component: AddNodePage },
  { pattern: '/nodes/update', nav: '/nodes', component: UpdatePage },
  { pattern: '/nodes/:name', nav: '/nodes', component: NodePage },
  { pattern: '/nodes/:name/terminal', nav: '/nodes', component: TerminalPage },
  { pattern: '/jobs/:id', nav: '/jobs', component: JobPage },
  { pattern: '/apps/new', nav: '/apps', component: DeployPage },
  { pattern: '/apps/:name', nav: '/apps', component: AppPage },
  { pattern: '/storage/:name', nav: '/storage', component: StorageNodePage },
  { pattern: '/storage-clusters/:environment', nav: '/storage-clusters', component: StorageClusterPage },
];

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      let v: string;
      try {
        v = decodeURIComponent(got[i]);
      } catch {
        return null;
      }
      if (!v) return null;
      params[want[i].slice(1)] = v;
    } else if (want[i] !== got[i]) return null;
  }
  return params;
}

/** The page for a path: its component, its parameters, and the navigation entry to highlight. */
export function matchPage(path: string): { entry: PageEntry; params: Record<string, string> } | undefined {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const top = PAGES.find((p) => p.path === clean);
  if (top) return { entry: top, params: {} };
  for (const d of DETAIL_PAGES) {
    const params = match(d.pattern, clean);
    if (params) {
      const nav = PAGES.find((p) => p.path === d.nav)!;
      return { entry: { ...nav, component: d.component }, params };
    }
  }
  return undefined;
}

export function pageFor(path: string): PageEntry | undefined {
  return matchPage(path)?.entry;
}
