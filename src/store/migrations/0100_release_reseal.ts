/**
 * Releases stay immutable, with one exception: `grim master-key rotate` may re-seal a release's secrets (same
 * content, new key). That update is accepted only inside the rotation's transaction: on PostgreSQL under the
 * transaction-local setting grim.reseal = 'on' (SET LOCAL), on SQLite while the rotation's own row sits in
 * release_reseal (inserted and deleted inside the same transaction, so no other connection ever sees it).
 * Every other column stays frozen exactly as before.
 */
import type { Migration } from '../migrate.ts';

export default {
  name: '0100_release_reseal',
  up: ({ dialect }) =>
    dialect === 'sqlite'
      ? [
          'CREATE TABLE release_reseal (id INTEGER PRIMARY KEY CHECK (id = 1))',
          'DROP TRIGGER app_releases_frozen',
          `CREATE TRIGGER app_releases_frozen BEFORE UPDATE OF app, number, kind, spec, created_by, created_at, rollback_of
           ON app_releases BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END`,
          `CREATE TRIGGER app_releases_secrets_frozen BEFORE UPDATE OF secrets ON app_releases
           WHEN NOT EXISTS (SELECT 1 FROM release_reseal)
           BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END`,
        ]
      : [
          `CREATE OR REPLACE FUNCTION app_releases_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF (NEW.app, NEW.number, NEW.kind, NEW.spec, NEW.created_by, NEW.created_at, NEW.rollback_of)
                IS DISTINCT FROM (OLD.app, OLD.number, OLD.kind, OLD.spec, OLD.created_by, OLD.created_at, OLD.rollback_of)
             THEN RAISE EXCEPTION 'releases are immutable'; END IF;
             IF NEW.secrets IS DISTINCT FROM OLD.secrets AND coalesce(current_setting('grim.reseal', true), '') <> 'on'
             THEN RAISE EXCEPTION 'releases are immutable'; END IF;
             RETURN NEW; END $$`,
        ],
} satisfies Migration;
