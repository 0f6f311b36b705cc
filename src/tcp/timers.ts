/**
 * The timers of one connection as deadlines (ms on the core's clock), no timer objects:
 * the TCP layer asks each connection for its earliest deadline and calls it back when due.
 *
 * RFC 6298 (retransmission), RFC 9293 3.8.6.1 (zero-window probing, "persist"),
 * RFC 1122 4.2.3.2 (delayed ACK), 4.2.3.6 (keepalive),
 * Linux tcp_fin_timeout (FIN_WAIT_2), RFC 8985 6.2 (RACK's reorder timer).
 */

/** Timer slots (TIME_WAIT has none: the layer's TIME_WAIT table ends its records, ./time-wait.ts). */
export const T_RTO = 0, T_PERSIST = 1, T_DELACK = 2, T_KEEPALIVE = 3, T_FINWAIT2 = 4, T_REORDER = 5;
/** Number of timer slots. */
export const TIMER_SLOTS = 6;
const N = TIMER_SLOTS;

/** Deadlines of one connection; Infinity = not armed. */
export class TcpTimers {
  /** A plain array of doubles: far smaller per connection than a Float64Array of five. */
  private readonly at: number[] = [Infinity, Infinity, Infinity, Infinity, Infinity, Infinity];
  private earliest = Infinity;

  /** Arms timer `t` to fire at `when` (re-arming it later may make another timer the earliest). */
  set(t: number, when: number): void {
    const was = this.at[t];
    this.at[t] = when;
    if (when < this.earliest) this.earliest = when;
    else if (was === this.earliest && when > was) this.recompute();
  }

  /** Disarms timer `t`. */
  clear(t: number): void {
    if (this.at[t] === Infinity) return;
    const was = this.at[t];
    this.at[t] = Infinity;
    if (was === this.earliest) this.recompute();
  }

  /** Disarms every timer. */
  clearAll(): void {
    this.at.fill(Infinity);
    this.earliest = Infinity;
  }

  /** True if timer `t` is armed. */
  armed(t: number): boolean {
    return this.at[t] !== Infinity;
  }

  /** Deadline of timer `t` (Infinity if not armed). */
  deadline(t: number): number {
    return this.at[t];
  }

  /** Earliest armed deadline. */
  next(): number {
    return this.earliest;
  }

  /** Returns the first timer due at `now` and disarms it, or -1 when none is due. */
  takeDue(now: number): number {
    if (this.earliest > now) return -1;
    for (let t = 0; t < N; t++) {
      if (this.at[t] <= now) {
        this.at[t] = Infinity;
        this.recompute();
        return t;
      }
    }
    this.recompute();
    return -1;
  }

  private recompute(): void {
    let e = Infinity;
    for (let t = 0; t < N; t++) {
      const d = this.at[t] ?? Infinity;
      if (d < e) e = d;
    }
    this.earliest = e;
  }
}
