/** How the pipeline service is put together: settings from the environment, grim's secret box, the registry. */
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import type { AuditLog } from '../audit.ts';
import type { AuthService } from '../auth.ts';
import { openSecretBox } from '../../secrets/secret-box.ts';
import { PipelineService, pipelineSettingsFromEnv } from './pipeline-service.ts';
import { RegistryCompanion } from './registry-companion.ts';
import { WorkerNodes } from './worker-nodes.ts';
import { ControlVolumes, controlVolumeSettings } from './control-volumes.ts';
import type { SshPool } from '../../ssh/index.ts';

export function createPipelineService(
  d: { db: Db; audit: AuditLog; auth: AuthService; dataDir: string; pool: SshPool },
  env: NodeJS.ProcessEnv = process.env,
): PipelineService {
  const settings = pipelineSettingsFromEnv(d.dataDir, env);
  const registry = new RegistryCompanion({
    dir: join(d.dataDir, 'registry'),
    addr: env.GRIM_REGISTRY_ADDR || '127.0.0.1:5000',
    grimUrl: settings.grimUrl,
    dataDir: d.dataDir,
  });
  const workerNodes = new WorkerNodes(d.pool, settings.workerWheels);
  const volumes = new ControlVolumes(controlVolumeSettings(d.dataDir, env));
  const box = openSecretBox(d.dataDir, env);
  return new PipelineService({ ...d, box, registry, workerNodes, volumes }, settings);
}
