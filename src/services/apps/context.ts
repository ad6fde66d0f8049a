/** What the app services share: store, SSH pool, jobs, the secret box and optional usage metrics. */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.ts';
import type { SshPool, SecretBox } from '../../ssh/index.ts';
import type { JobStore } from '../jobs.ts';
import type { UsageSource } from './planner.ts';
import { KeyedLock } from './locks.ts';

export interface AppDeps {
  db: Db;
  pool: SshPool;
  jobs: JobStore;
  box: SecretBox;
  usage?: UsageSource;
  /** Seconds a graceful stop may take. Default 10. */
  stopTimeoutSec?: number;
}

export interface AppRuntime extends AppDeps {
  lock: KeyedLock;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** `<app>-<release>-<5 random>`: short, [a-z0-9-], unique. */
export const newInstanceId = (app: string, release: number) =>
  `${app}-${release}-${[...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;
