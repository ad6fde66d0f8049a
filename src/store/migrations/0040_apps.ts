/**
 * Apps: admin-editable sizes, apps (desired spec + sealed secrets), immutable numbered releases, instances
 * on nodes, host ports taken per node, and the persisted state of each rollout (so it resumes after a crash).
 */
import type { Migration } from '../migrate.ts';
import { DEFAULT_SIZES } from '../../domain/sizes.ts';

/** A release's content never changes once written: only its status moves. */
const frozenRelease = (d: 'sqlite' | 'postgres'): string[] =>
  d === 'sqlite'
    ? [
        `CREATE TRIGGER app_releases_frozen BEFORE UPDATE OF app, number, kind, spec, secrets, created_by, created_at, rollback_of
         ON app_releases BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END`,
      ]
    : [
        `CREATE FUNCTION app_releases_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF (NEW.app, NEW.number, NEW.kind, NEW.spec, NEW.secrets, NEW.created_by, NEW.created_at, NEW.rollback_of)
              IS DISTINCT FROM (OLD.app, OLD.number, OLD.kind, OLD.spec, OLD.secrets, OLD.created_by, OLD.created_at, OLD.rollback_of)
           THEN RAISE EXCEPTION 'releases are immutable'; END IF; RETURN NEW; END $$`,
        `CREATE TRIGGER app_releases_frozen BEFORE UPDATE ON app_releases FOR EACH ROW EXECUTE FUNCTION app_releases_frozen()`,
      ];

export default {
  name: '0040_apps',
  up: ({ dialect }) => [
    `CREATE TABLE sizes (
      name TEXT PRIMARY KEY,
      cpu_millis BIGINT NOT NULL,
      memory_bytes BIGINT NOT NULL,
      disk_bytes BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    ...DEFAULT_SIZES.map(
      (s) =>
        `INSERT INTO sizes (name, cpu_millis, memory_bytes, disk_bytes, updated_at) VALUES ('${s.name}', ${s.cpuMillis}, ${s.memoryBytes}, ${s.diskBytes}, 0)`,
    ),
    `CREATE TABLE apps (
      name TEXT PRIMARY KEY,
      environment TEXT NOT NULL REFERENCES environments(name),
      group_name TEXT NOT NULL REFERENCES node_groups(name),
      spec TEXT NOT NULL,
      secrets TEXT NOT NULL DEFAULT '',
      current_release INTEGER,
      deleting INTEGER NOT NULL DEFAULT 0,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE app_releases (
      app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
      number INTEGER NOT NULL,
      kind TEXT NOT NULL,
      spec TEXT NOT NULL,
      secrets TEXT NOT NULL DEFAULT '',
      rollback_of INTEGER,
      status TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (app, number)
    )`,
    ...frozenRelease(dialect),
    `CREATE TABLE app_instances (
      id TEXT PRIMARY KEY,
      app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
      release INTEGER NOT NULL,
      node TEXT NOT NULL,
      state TEXT NOT NULL,
      ports TEXT NOT NULL DEFAULT '{}',
      handle TEXT NOT NULL DEFAULT '',
      restarts INTEGER NOT NULL DEFAULT 0,
      message TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    'CREATE INDEX app_instances_app ON app_instances (app)',
    'CREATE INDEX app_instances_node ON app_instances (node)',
    `CREATE TABLE app_ports (
      node TEXT NOT NULL,
      port INTEGER NOT NULL,
      instance_id TEXT NOT NULL REFERENCES app_instances(id) ON DELETE CASCADE,
      PRIMARY KEY (node, port)
    )`,
    `CREATE TABLE app_rollouts (
      id TEXT PRIMARY KEY,
      app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
      job_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      target_release INTEGER NOT NULL,
      previous_release INTEGER,
      plan TEXT NOT NULL,
      phases TEXT NOT NULL,
      status TEXT NOT NULL,
      message TEXT NOT NULL DEFAULT '',
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    'CREATE INDEX app_rollouts_app ON app_rollouts (app, created_at)',
  ],
} satisfies Migration;
