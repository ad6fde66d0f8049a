import type { Db } from '../store/db.ts';
import { conflict, invalid, notFound } from '../domain/errors.ts';

/** Environments and groups: named sets of nodes. Plain bookkeeping, no magic. */
export class InventoryService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async listEnvironments() {
    const envs = await this.db.all<{ name: string; description: string }>(
      'SELECT name, description FROM environments ORDER BY name',
    );
    const count = async (table: string, env: string) =>
      Number(
        (await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE environment = ?`, [env]))
          ?.n ?? 0,
      );
    return Promise.all(
      envs.map(async (e) => ({
        ...e,
        nodes: await count('nodes', e.name),
        groups: await count('node_groups', e.name),
      })),
    );
  }

  async createEnvironment(name: string, description = '') {
    if (await this.db.get('SELECT name FROM environments WHERE name = ?', [name]))
      throw conflict(`environment ${name} exists`);
    await this.db.run('INSERT INTO environments (name, description, created_at) VALUES (?, ?, ?)', [
      name,
      description,
      Date.now(),
    ]);
  }

  async deleteEnvironment(name: string) {
    if (!(await this.db.get('SELECT name FROM environments WHERE name = ?', [name])))
      throw notFound(`environment ${name}`);
    const used = await this.db.get(
      'SELECT name FROM nodes WHERE environment = ? UNION SELECT name FROM node_groups WHERE environment = ?',
      [name, name],
    );
    if (used) throw conflict(`environment ${name} still has nodes or groups`);
    await this.db.run('DELETE FROM environments WHERE name = ?', [name]);
  }

  async listGroups(environment?: string) {
    const groups = await this.db.all<{ name: string; environment: string; description: string }>(
      `SELECT name, environment, description FROM node_groups ${environment ? 'WHERE environment = ?' : ''} ORDER BY name`,
      environment ? [environment] : [],
    );
    const members = await this.db.all<{ group_name: string; node_name: string }>(
      'SELECT group_name, node_name FROM group_members ORDER BY node_name',
    );
    return groups.map((g) => ({
      ...g,
      nodes: members.filter((m) => m.group_name === g.name).map((m) => m.node_name),
    }));
  }

  async createGroup(name: string, environment: string, description = '', nodes: string[] = []) {
    if (!(await this.db.get('SELECT name FROM environments WHERE name = ?', [environment])))
      throw invalid('no such environment', [
        { path: 'body/environment', message: `environment ${environment} does not exist` },
      ]);
    if (await this.db.get('SELECT name FROM node_groups WHERE name = ?', [name]))
      throw conflict(`group ${name} exists`);
    await this.db.transaction(async (tx) => {
      await tx.run(
        'INSERT INTO node_groups (name, environment, description, created_at) VALUES (?, ?, ?, ?)',
        [name, environment, description, Date.now()],
      );
      await this.writeMembers(tx, name, environment, nodes);
    });
  }

  async setGroupNodes(name: string, nodes: string[]) {
    const g = await this.db.get<{ environment: string }>(
      'SELECT environment FROM node_groups WHERE name = ?',
      [name],
    );
    if (!g) throw notFound(`group ${name}`);
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM group_members WHERE group_name = ?', [name]);
      await this.writeMembers(tx, name, g.environment, nodes);
    });
  }

  private async writeMembers(
    tx: Pick<Db, 'get' | 'run'>,
    group: string,
    environment: string,
    nodes: string[],
  ) {
    const problems = [];
    for (const n of new Set(nodes)) {
      const row = await tx.get<{ environment: string }>('SELECT environment FROM nodes WHERE name = ?', [n]);
      if (!row) problems.push({ path: 'body/nodes', message: `no node ${n}` });
      else if (row.environment !== environment)
        problems.push({
          path: 'body/nodes',
          message: `node ${n} is in environment ${row.environment}, not ${environment}`,
        });
      else await tx.run('INSERT INTO group_members (group_name, node_name) VALUES (?, ?)', [group, n]);
    }
    if (problems.length) throw invalid('bad group members', problems);
  }

  async deleteGroup(name: string) {
    const r = await this.db.run('DELETE FROM node_groups WHERE name = ?', [name]);
    if (!r.changes) throw notFound(`group ${name}`);
  }
}
