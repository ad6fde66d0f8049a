/** A binary min-heap of small integers (indices) ordered by a caller-supplied comparison. */
export class IndexMinHeap {
  private readonly items: number[] = [];
  private readonly less: (a: number, b: number) => boolean;

  constructor(less: (a: number, b: number) => boolean, initial: Iterable<number> = []) {
    this.less = less;
    for (const i of initial) this.items.push(i);
    for (let k = (this.items.length >> 1) - 1; k >= 0; k--) this.down(k);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  /** Restores order after the key of the top item grew (the common case: it just received an instance). */
  topIncreased(): void {
    this.down(0);
  }

  private down(k: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[k];
    for (;;) {
      const left = 2 * k + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(items[right], items[left]) ? right : left;
      if (!this.less(items[child], item)) break;
      items[k] = items[child];
      k = child;
    }
    items[k] = item;
  }
}
