/** How the SeaweedFS services are put together (one secret box for cluster secrets and S3 key secrets). */
import type { Db } from '../../store/db.ts';
import { type SshPool } from '../../ssh/index.ts';
import { openSecretBox } from '../../secrets/secret-box.ts';
import type { AuditLog } from '../audit.ts';
import { SeaweedService } from './seaweed-service.ts';
import { SeaweedAccess } from './access.ts';
import { SeaweedOperations } from './operations.ts';

export function createSeaweedServices(d: { db: Db; pool: SshPool; audit: AuditLog; dataDir: string }) {
  const seaweedfs = new SeaweedService({ ...d, box: openSecretBox(d.dataDir) });
  return {
    seaweedfs,
    seaweedAccess: new SeaweedAccess(seaweedfs),
    seaweedOps: new SeaweedOperations(seaweedfs),
  };
}
