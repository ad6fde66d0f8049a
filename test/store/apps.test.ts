import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, storeCases } from '../helpers/stores.ts';
import { DEFAULT_SIZES } from '../../src/domain/sizes.ts';
import { SizeService } from '../../src/services/apps/sizes.ts';
import { dropInstance, takePorts } from '../../src/store/instances-repo.ts';

for (const c of storeCases) {
  test(`apps store on ${c.name}: seeded sizes, immutable releases, per-node host ports`, async (t) => {
    const skip = await skipReason(c);
    if (skip) return t.skip(skip);
    const { db, cleanup } = await c.open();
    t.after(cleanup);

    const sizes = new SizeService(db);
    assert.deepEqual(
      (await sizes.list()).map((s) => s.name),
      DEFAULT_SIZES.map((s) => s.name),
    );
    await sizes.put({ name: 'xs', cpu: '200m', memory: '256Mi', disk: '1Gi' });
    assert.equal((await sizes.list()).find((s) => s.name === 'xs')?.cpuMillis, 200);
    await assert.rejects(
      sizes.put({ name: 'bad', cpu: '-1', memory: '1', disk: '1' }),
      /size bad is invalid/,
    );

    const now = Date.now();
    await db.run("INSERT INTO environments (name, created_at) VALUES ('e', ?)", [now]);
    await db.run("INSERT INTO node_groups (name, environment, created_at) VALUES ('g', 'e', ?)", [now]);
    await db.run(
      "INSERT INTO apps (name, environment, group_name, spec, created_by, created_at, updated_at) VALUES ('a', 'e', 'g', '{}', 'x', ?, ?)",
      [now, now],
    );
    await db.run(
      "INSERT INTO app_releases (app, number, kind, spec, status, created_by, created_at) VALUES ('a', 1, 'deploy', '{\"replicas\":1}', 'deploying', 'x', ?)",
      [now],
    );
    // The status moves; the content never does.
    await db.run("UPDATE app_releases SET status = 'active' WHERE app = 'a' AND number = 1");
    await assert.rejects(
      db.run("UPDATE app_releases SET spec = '{}' WHERE app = 'a' AND number = 1"),
      /immutable/,
    );
    await assert.rejects(
      db.run("UPDATE app_releases SET created_by = 'y' WHERE app = 'a' AND number = 1"),
      /immutable/,
    );

    for (const id of ['i1', 'i2', 'i3'])
      await db.run(
        "INSERT INTO app_instances (id, app, release, node, state, created_at, updated_at) VALUES (?, 'a', 1, 'n1', 'pending', ?, ?)",
        [id, now, now],
      );
    assert.deepEqual(await db.transaction((tx) => takePorts(tx, 'n1', 'i1', ['http', 'admin'])), {
      http: 20000,
      admin: 20001,
    });
    assert.deepEqual(await db.transaction((tx) => takePorts(tx, 'n1', 'i2', ['http'])), { http: 20002 });
    assert.deepEqual(await db.transaction((tx) => takePorts(tx, 'n2', 'i3', ['http'])), { http: 20000 });
    await dropInstance(db, 'i1');
    // Freed ports are taken again, lowest first.
    assert.deepEqual(await db.transaction((tx) => takePorts(tx, 'n1', 'i3', ['http'])), { http: 20000 });
    await assert.rejects(
      db.run("INSERT INTO app_ports (node, port, instance_id) VALUES ('n1', 20002, 'i3')"),
    );
  });
}
