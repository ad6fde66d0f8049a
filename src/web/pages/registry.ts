import type { ComponentType } from 'react';
import { OverviewPage } from './overview/OverviewPage.tsx';
import { NodesPage } from './nodes/NodesPage.tsx';
import { RunPage } from './run/RunPage.tsx';
import { AppsPage } from './apps/AppsPage.tsx';
import { JobsPage } from './jobs/JobsPage.tsx';
import { AuditPage } from './audit/AuditPage.tsx';
import { UsersPage } from './users/UsersPage.tsx';
import { SettingsPage } from './settings/SettingsPage.tsx';

export interface PageEntry {
  path: string;
  label: string;
  component: ComponentType;
}

/** The left navigation, in order; each entry is one page folder. */
export const PAGES: PageEntry[] = [
  { path: '/', label: 'Overview', component: OverviewPage },
  { path: '/nodes', label: 'Nodes', component: NodesPage },
  { path: '/run', label: 'Run', component: RunPage },
  { path: '/apps', label: 'Apps', component: AppsPage },
  { path: '/jobs', label: 'Jobs', component: JobsPage },
  { path: '/audit', label: 'Audit', component: AuditPage },
  { path: '/users', label: 'Users & tokens', component: UsersPage },
  { path: '/settings', label: 'Settings', component: SettingsPage },
];

export function pageFor(path: string): PageEntry | undefined {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return PAGES.find((p) => p.path === clean);
}
