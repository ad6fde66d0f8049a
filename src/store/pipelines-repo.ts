/** SQL for pipelines, webhook deliveries and the builds behind releases. */
import type { Db } from './db.ts';
import type { PipelineSpec, WebhookProvider } from '../domain/pipelines.ts';

export interface PipelineRow {
  name: string;
  app: string;
  spec: string;
  webhook_provider: WebhookProvider | null;
  webhook_secret: string;
  deploy_token: string;
  deploy_token_id: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const getPipelineRow = (db: Db, name: string) =>
  db.get<PipelineRow>('SELECT * FROM pipelines WHERE name = ?', [name]);

export const listPipelineRows = (db: Db) => db.all<PipelineRow>('SELECT * FROM pipelines ORDER BY name');

export async function insertPipeline(
  db: Db,
  p: {
    spec: PipelineSpec;
    provider: WebhookProvider | null;
    webhookSecret: string;
    deployToken: string;
    deployTokenId: string;
    by: string;
  },
): Promise<void> {
  const now = Date.now();
  await db.run(
    `INSERT INTO pipelines (name, app, spec, webhook_provider, webhook_secret, deploy_token, deploy_token_id,
       created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      p.spec.name,
      p.spec.app,
      JSON.stringify(p.spec),
      p.provider,
      p.webhookSecret,
      p.deployToken,
      p.deployTokenId,
      p.by,
      now,
      now,
    ],
  );
}

export const deletePipelineRow = (db: Db, name: string) =>
  db.run('DELETE FROM pipelines WHERE name = ?', [name]);

/** Records a delivery id; false when it was seen before (a replay). */
export async function recordDelivery(db: Db, pipeline: string, delivery: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (
      await tx.get('SELECT 1 AS x FROM pipeline_deliveries WHERE pipeline = ? AND delivery = ?', [
        pipeline,
        delivery,
      ])
    )
      return false;
    await tx.run('INSERT INTO pipeline_deliveries (pipeline, delivery, received_at) VALUES (?, ?, ?)', [
      pipeline,
      delivery,
      Date.now(),
    ]);
    return true;
  });
}

export interface ReleaseBuildRow {
  app: string;
  release: number;
  pipeline: string;
  build_number: number;
  commit_id: string;
  image_digest: string;
  created_at: number;
}

export async function recordReleaseBuild(
  db: Db,
  r: { app: string; release: number; pipeline: string; number: number; commit: string; digest: string },
): Promise<void> {
  await db.run(
    `INSERT INTO release_builds (app, release, pipeline, build_number, commit_id, image_digest, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [r.app, r.release, r.pipeline, r.number, r.commit, r.digest, Date.now()],
  );
}

export const releaseBuildsOf = (db: Db, o: { app?: string; pipeline?: string }) =>
  db.all<ReleaseBuildRow>(
    `SELECT * FROM release_builds WHERE ${o.app ? 'app = ?' : 'pipeline = ?'} ORDER BY created_at DESC LIMIT 200`,
    [o.app ?? o.pipeline ?? ''],
  );
