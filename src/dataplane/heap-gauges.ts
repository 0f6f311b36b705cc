/**
 * A thread's V8 heap as gauges in its counter block (heap_used_bytes, heap_total_bytes,
 * heap_external_bytes), so that /stats shows where the process's memory is without RPC:
 * each isolate (the I/O thread, every shard worker) reports its own heap. Refreshed at
 * most once per REFRESH_MS by the owning thread's loop; v8.getHeapStatistics() costs a
 * few µs.
 */
import { getHeapStatistics } from 'node:v8';
import { C, type Counters } from '../base/counters.js';

/** How often a thread refreshes its heap gauges (ms). */
const REFRESH_MS = 1000;

/** Refreshes one thread's heap gauges when they are due. */
export class HeapGauges {
  private dueAt = 0;

  constructor(private readonly counters: Counters) {}

  /** Refreshes the gauges if REFRESH_MS passed since the last time (`now` in ms). */
  update(now: number): void {
    if (now < this.dueAt) return;
    this.dueAt = now + REFRESH_MS;
    const h = getHeapStatistics();
    this.counters[C.heap_used_bytes] = h.used_heap_size;
    this.counters[C.heap_total_bytes] = h.total_heap_size;
    this.counters[C.heap_external_bytes] = h.external_memory;
  }
}
