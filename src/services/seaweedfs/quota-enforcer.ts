/**
 * Runs SeaweedFS's bucket quota enforcement from grim's health loop (besides the leader's own maintenance
 * script, which runs every 17 min): at most every `everyMs` per cluster with quota buckets, in the background
 * so a slow `weed shell` never delays a health poll. The latest result's problems join the cluster's health.
 */
import { quotaProblems, readOnlyBuckets } from '../../domain/seaweedfs/quota.ts';
import type { Problem } from '../../domain/seaweedfs/health.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import type { SeaweedService } from './seaweed-service.ts';

export class QuotaEnforcer {
  /** How often the health loop enforces quotas per cluster. */
  everyMs = 60_000;
  readonly #s: SeaweedService;
  readonly #last = new Map<string, { at: number; problems: Problem[]; output: string }>();
  readonly #running = new Map<string, Promise<Problem[]>>();

  constructor(s: SeaweedService) {
    this.#s = s;
  }

  /** The latest result; starts a new round in the background when one is due. */
  problems(environment: string): Problem[] {
    const last = this.#last.get(environment);
    if (!this.#running.has(environment) && (!last || Date.now() - last.at >= this.everyMs))
      this.enforce(environment).catch(() => {});
    return last?.problems ?? [];
  }

  /** What the last round's `weed shell` printed (enforcement and filer.conf), for diagnosis. */
  lastOutput(environment: string): string {
    return this.#last.get(environment)?.output ?? '';
  }

  /** One enforcement round: quotas applied under the shell lock, then the read-only buckets read back. */
  enforce(environment: string): Promise<Problem[]> {
    const running = this.#running.get(environment);
    if (running) return running;
    const p = this.#round(environment).finally(() => this.#running.delete(environment));
    this.#running.set(environment, p);
    return p;
  }

  async #round(environment: string): Promise<Problem[]> {
    const at = Date.now();
    const buckets = await seaweedRepo.buckets(this.#s.d.db, environment);
    const quotas = new Map(buckets.map((b) => [b.name, b.quota_mb]));
    let problems: Problem[] = [];
    let output = '';
    if (buckets.some((b) => b.quota_mb)) {
      const { plan, rows, spec } = await this.#s.plan(await this.#s.row(environment));
      output = await this.#s.ops.shell(
        rows.get(spec.masters[0])!,
        plan.masterAddresses,
        ['lock', 's3.bucket.quota.enforce -apply', 'unlock', 'fs.configure'],
        60,
      );
      problems = quotaProblems(readOnlyBuckets(output), quotas);
    }
    this.#last.set(environment, { at, problems, output });
    return problems;
  }
}
