/**
 * Pipelines (git → image → release), the deployer token scope, webhook deliveries (a delivery id is accepted
 * once: replays are refused by the primary key) and what built each release.
 */
import type { Migration } from '../migrate.ts';

export default {
  name: '0120_pipelines',
  up: () => [
    'ALTER TABLE api_tokens ADD COLUMN apps TEXT',
    `CREATE TABLE pipelines (
      name TEXT PRIMARY KEY,
      app TEXT NOT NULL,
      spec TEXT NOT NULL,
      webhook_provider TEXT,
      webhook_secret TEXT NOT NULL DEFAULT '',
      deploy_token TEXT NOT NULL DEFAULT '',
      deploy_token_id TEXT,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE pipeline_deliveries (
      pipeline TEXT NOT NULL,
      delivery TEXT NOT NULL,
      received_at BIGINT NOT NULL,
      PRIMARY KEY (pipeline, delivery)
    )`,
    `CREATE TABLE release_builds (
      app TEXT NOT NULL,
      release INTEGER NOT NULL,
      pipeline TEXT NOT NULL,
      build_number INTEGER NOT NULL,
      commit_id TEXT NOT NULL,
      image_digest TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (app, release)
    )`,
    `CREATE TABLE buildbot_config (
      id INTEGER PRIMARY KEY,
      applied_cfg TEXT NOT NULL,
      applied_at BIGINT NOT NULL,
      applied_by TEXT NOT NULL
    )`,
  ],
} satisfies Migration;
