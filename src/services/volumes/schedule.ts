/**
 * Scheduled volume backups: one round backs up each app volume with a backup policy whose interval has passed
 * since its last attempt (one at a time). The server runs rounds under the 'loop:volume-backups' lease, so in a
 * multi-instance grim only one instance runs them.
 */
import type { AppService } from '../apps/app-service.ts';
import { appSpec, listApps } from '../../store/apps-repo.ts';

export async function scheduledBackupsTick(apps: AppService, now = Date.now()) {
  const rows = await listApps(apps.volumes.db);
  return apps.backups.tick(
    rows.map((a) => ({ name: a.name, spec: appSpec(a) })),
    now,
  );
}
