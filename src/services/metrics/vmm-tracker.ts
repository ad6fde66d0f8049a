/**
 * Per node, how far grim has read each VMM metrics file (Firecracker) and the timestamp of the last line,
 * so each round asks metrics.sh only for what was written since and turns it into instance rates.
 */
import type { RawVmmChunk } from '../../domain/metrics/raw-sample.ts';
import type { SeriesRow } from '../../domain/metrics/series-rows.ts';
import { vmmChunkLines, vmmPoints } from '../../domain/metrics/vmm.ts';

interface FileState {
  offset: number;
  lastTs: number | undefined;
}

export class VmmMetricsTracker {
  readonly #files = new Map<string, Map<string, FileState>>(); // node -> path -> state

  /** The VMM_METRICS parameter for metrics.sh ("OFFSET PATH" lines), forgetting files no longer listed. */
  request(node: string, files: ReadonlyMap<string, string>): string {
    const known = this.#node(node);
    for (const path of known.keys()) if (!files.has(path)) known.delete(path);
    return [...files.keys()].map((path) => `${known.get(path)?.offset ?? 0} ${path}`).join('\n');
  }

  /** Instance rows from what the files gained; advances the offsets. */
  ingest(
    node: string,
    chunks: readonly RawVmmChunk[],
    files: ReadonlyMap<string, string>,
    ts: number,
  ): SeriesRow[] {
    const known = this.#node(node);
    const rows: SeriesRow[] = [];
    for (const chunk of chunks) {
      const instance = files.get(chunk.path);
      if (instance === undefined || !chunk.found) continue;
      const state = known.get(chunk.path) ?? { offset: 0, lastTs: undefined };
      const reset = chunk.from < state.offset; // the file was recreated (a new VMM)
      const { lines, nextOffset } = vmmChunkLines(chunk, state.offset);
      const { points, lastTs } = vmmPoints(reset ? undefined : state.lastTs, lines);
      known.set(chunk.path, { offset: nextOffset, lastTs });
      for (const p of points)
        rows.push({ kind: 'instance', entityId: instance, metric: p.metric, dim: p.dim, ts, value: p.value });
    }
    return rows;
  }

  #node(node: string): Map<string, FileState> {
    let known = this.#files.get(node);
    if (known === undefined) this.#files.set(node, (known = new Map()));
    return known;
  }

  forgetNode(node: string): void {
    this.#files.delete(node);
  }
}
