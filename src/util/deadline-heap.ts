/**
 * A binary min-heap of (deadline, item) with lazy deletion: an item may be pushed again
 * with a new deadline; stale entries are skipped by the owner when popped (it compares
 * the entry's deadline with the item's current one). Used to find due TCP timers without
 * scanning every connection.
 */

/** Min-heap keyed by deadline (ms). */
export class DeadlineHeap<T> {
  private readonly keys: number[] = [];
  private readonly itemList: T[] = [];

  /** Entries held (including stale ones). */
  get size(): number {
    return this.keys.length;
  }

  /** Earliest deadline, or Infinity. */
  peekDeadline(): number {
    return this.keys.length > 0 ? this.keys[0] : Infinity;
  }

  /** The item with the earliest deadline (left in the heap), or undefined. */
  peek(): T | undefined {
    return this.itemList[0];
  }

  /** Adds an entry. */
  push(deadline: number, item: T): void {
    const k = this.keys;
    const it = this.itemList;
    let i = k.length;
    k.push(deadline);
    it.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] <= deadline) break;
      k[i] = k[p];
      it[i] = it[p];
      i = p;
    }
    k[i] = deadline;
    it[i] = item;
  }

  /** Removes and returns the earliest item (its deadline is in `lastDeadline`), or undefined. */
  pop(): T | undefined {
    const k = this.keys;
    const it = this.itemList;
    const n = k.length - 1; // entries left after this pop
    if (n < 0) return undefined;
    const top = it[0];
    this.lastDeadline = k[0];
    const lastK = k[n];
    const lastI = it[n];
    k.pop();
    it.pop();
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && k[r] < k[l] ? r : l;
        if (k[c] >= lastK) break;
        k[i] = k[c];
        it[i] = it[c];
        i = c;
      }
      k[i] = lastK;
      it[i] = lastI;
    }
    return top;
  }

  /** Deadline of the entry returned by the last pop(). */
  lastDeadline = Infinity;

  /** The items of every entry, in no order (stale ones included). */
  items(): readonly T[] {
    return this.itemList;
  }
}
