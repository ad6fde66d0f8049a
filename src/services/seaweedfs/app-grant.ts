/**
 * An app asks for a bucket: grim creates a key limited to that bucket and deploys the app with
 * S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as secrets (sealed, shown by name
 * only). The key's secret never leaves grim except into the app's instances.
 */
import { invalid } from '../../domain/errors.ts';
import type { AppService } from '../apps/app-service.ts';
import type { SeaweedAccess } from './access.ts';

export async function grantBucketToApp(
  access: SeaweedAccess,
  apps: AppService,
  p: { environment: string; bucket: string; app: string; actions: string[]; by: string },
) {
  const app = await apps.get(p.app);
  if (app.environment !== p.environment)
    throw invalid('invalid grant', [
      {
        path: 'body/app',
        message: `app ${p.app} is in environment ${app.environment}, the cluster in ${p.environment}`,
      },
    ]);
  const name = `app-${p.app}-${p.bucket}`.replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');
  const key = await access.createKey(p.environment, { name, bucket: p.bucket, actions: p.actions });
  const deployed = await apps.deploy(
    p.app,
    {
      changes: {
        secrets: {
          S3_ENDPOINT: key.endpoints[0] ?? '',
          S3_BUCKET: key.bucket,
          AWS_ACCESS_KEY_ID: key.accessKey,
          AWS_SECRET_ACCESS_KEY: key.secretKey,
        },
      },
    },
    p.by,
  );
  return {
    key: { name: key.name, accessKey: key.accessKey, bucket: key.bucket, actions: key.actions },
    release: deployed.release,
    jobId: deployed.jobId,
  };
}
