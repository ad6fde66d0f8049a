// The lab's state, saved as JSON in its state dir so that any later process can manage the lab.
import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { labStateDir } from './names.ts';

export type LabOs = 'debian' | 'alpine';

export interface LabNode {
  name: string;
  index: number;
  address: string;
  port: 22;
  user: 'root';
  hostKeyFingerprint: string;
  hostPublicKey: string;
  netns: string;
  hostVeth: string;
  dir: string;
}

export interface LabState {
  name: string;
  os: LabOs;
  stateDir: string;
  bridge: string;
  subnet: string;
  subnetIndex: number;
  gateway: string;
  rootfs: string;
  clientKeyPath: string;
  clientPublicKey: string;
  knownHostsPath: string;
  createdAt: string;
  nodes: LabNode[];
  /** Storage labs: the sparse-file disks each node has (lab up --storage-disks). */
  storageDisks?: { count: number; sizeBytes: number };
}

export function stateFile(name: string): string {
  return path.join(labStateDir(name), 'state.json');
}

export async function saveState(state: LabState): Promise<void> {
  const file = stateFile(state.name);
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
}

export async function loadState(name: string): Promise<LabState> {
  let text: string;
  try {
    text = await readFile(stateFile(name), 'utf8');
  } catch {
    throw new Error(`lab '${name}' is not up (no ${stateFile(name)})`);
  }
  return JSON.parse(text) as LabState;
}

export function findNode(state: LabState, index: number): LabNode {
  const node = state.nodes.find((n) => n.index === index);
  if (!node) throw new Error(`lab '${state.name}' has no node ${index} (it has n1..n${state.nodes.length})`);
  return node;
}
