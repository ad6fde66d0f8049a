/** The node rows the storage service needs (through the nodes repository, no SQL here). */
import type { Db } from '../../store/db.ts';
import { getNodeRow, listNodeRows, type NodeRow } from '../../store/nodes-repo.ts';
import { notFound } from '../../domain/errors.ts';

export async function nodesOf(db: Db, environment: string): Promise<NodeRow[]> {
  return listNodeRows(db, { environment });
}

export async function nodeRepoGet(db: Db, name: string): Promise<NodeRow> {
  const n = await getNodeRow(db, name);
  if (!n) throw notFound(`node ${name}`);
  return n;
}
