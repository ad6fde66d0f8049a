/**
 * Several grim instances on one database: leases with fencing tokens (background loops, rollouts), the
 * instances themselves (for `grim status`), the owner of each job, login attempts shared by every instance,
 * and job output as rows, so a job's event stream can be followed through any instance.
 */
import type { Migration } from '../migrate.ts';

export default {
  name: '0100_control_plane',
  up: () => [
    `CREATE TABLE leases (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      token BIGINT NOT NULL,
      acquired_at BIGINT NOT NULL,
      renewed_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
    `CREATE TABLE control_instances (
      id TEXT PRIMARY KEY,
      hostname TEXT NOT NULL,
      pid INTEGER NOT NULL,
      version TEXT NOT NULL,
      listen TEXT NOT NULL,
      started_at BIGINT NOT NULL,
      stopped_at BIGINT
    )`,
    `ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
    `CREATE TABLE login_attempts (
      key TEXT NOT NULL,
      at BIGINT NOT NULL,
      failed INTEGER NOT NULL
    )`,
    'CREATE INDEX login_attempts_key ON login_attempts (key, at)',
    `CREATE TABLE job_events (
      job_id TEXT NOT NULL,
      seq BIGINT NOT NULL,
      at BIGINT NOT NULL,
      event TEXT NOT NULL,
      PRIMARY KEY (job_id, seq)
    )`,
  ],
} satisfies Migration;
