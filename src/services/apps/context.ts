/**
 * What the app services are given: the store, jobs, the secret box, the runtime drivers, a way to act on a node
 * (an OpCtx per node) and optional usage metrics. Nothing here is global, so a unit test can hand the engine a
 * fake driver and fake nodes.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../../store/db.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { OpCtx } from '../../drivers/driver.ts';
import type { DriverSet } from '../../drivers/driver-set.ts';
import type { JobStore } from '../jobs.ts';
import type { UsageSource } from './planner.ts';
import { KeyedLock } from './locks.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import type { LeaseManager } from '../leases.ts';
import type { Tracer } from '../tracing/tracer.ts';

/** The OpCtx through which drivers act on `node` (scripts and uploads), with log lines going to `log`. */
export type NodeAccess = (node: NodeRow, log: (line: string) => void, signal?: AbortSignal) => OpCtx;

export interface AppDeps {
  db: Db;
  jobs: JobStore;
  box: SecretBox;
  drivers: DriverSet;
  nodes: NodeAccess;
  usage?: UsageSource;
  /** Seconds a graceful stop may take. Default 10. */
  stopTimeoutSec?: number;
  /** Waits between health checks (tests make it instant). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Several grim instances: each rollout runs under the lease `rollout:<id>`, with its writes fenced by the
   * lease's token. Without it (unit tests) rollouts run unfenced.
   */
  leases?: LeaseManager;
  /** Rollouts become traces (a span per unit and step); instances get OTEL_* pointing at its app endpoint. */
  tracer?: Tracer;
}

export interface AppRuntime extends AppDeps {
  lock: KeyedLock;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** App volumes: placement facts, snapshots before deploys, creating them on nodes. */
  volumes?: VolumeService;
}

export function appRuntime(deps: AppDeps, volumes?: VolumeService): AppRuntime {
  return {
    ...deps,
    lock: new KeyedLock(),
    sleep: deps.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    ...(volumes ? { volumes } : {}),
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** `<app>-<release>-<5 random>`: short, [a-z0-9-], unique. */
export const newInstanceId = (app: string, release: number) =>
  `${app}-${release}-${[...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;
