import type { Migration } from '../migrate.ts';

export default {
  name: '0010_nodes',
  up: () => [
    `CREATE TABLE environments (
      name TEXT PRIMARY KEY,
      description TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE nodes (
      name TEXT PRIMARY KEY,
      environment TEXT NOT NULL REFERENCES environments(name),
      address TEXT NOT NULL,
      port INTEGER NOT NULL,
      ssh_user TEXT NOT NULL,
      roles TEXT NOT NULL,
      labels TEXT NOT NULL,
      host_key_fingerprint TEXT NOT NULL,
      state TEXT NOT NULL,
      state_reason TEXT NOT NULL DEFAULT '',
      maintenance INTEGER NOT NULL DEFAULT 0,
      reserve_cpu_millis BIGINT NOT NULL DEFAULT 0,
      reserve_memory_bytes BIGINT NOT NULL DEFAULT 0,
      facts TEXT NOT NULL DEFAULT '{}',
      facts_at BIGINT,
      last_seen_at BIGINT,
      created_at BIGINT NOT NULL,
      UNIQUE (address, port)
    )`,
    `CREATE TABLE node_groups (
      name TEXT PRIMARY KEY,
      environment TEXT NOT NULL REFERENCES environments(name),
      description TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE group_members (
      group_name TEXT NOT NULL REFERENCES node_groups(name) ON DELETE CASCADE,
      node_name TEXT NOT NULL REFERENCES nodes(name) ON DELETE CASCADE,
      PRIMARY KEY (group_name, node_name)
    )`,
    `CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      spec TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      started_at BIGINT,
      finished_at BIGINT,
      summary TEXT NOT NULL DEFAULT ''
    )`,
    'CREATE INDEX jobs_created ON jobs (created_at)',
    `CREATE TABLE job_tasks (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      node_name TEXT NOT NULL,
      seq INTEGER NOT NULL,
      status TEXT NOT NULL,
      exit_code INTEGER,
      duration_ms BIGINT,
      output TEXT NOT NULL DEFAULT '',
      error TEXT NOT NULL DEFAULT '',
      result TEXT NOT NULL DEFAULT '',
      started_at BIGINT,
      finished_at BIGINT,
      PRIMARY KEY (job_id, node_name)
    )`,
  ],
} satisfies Migration;
