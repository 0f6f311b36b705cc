/**
 * The sustained run of perf/tcp-bench.ts (`--only sustained`, issue 8 item 7): sequential
 * connections from ONE client address for a long time, to see the rate hold or decay as
 * TIME_WAIT fills. `wrk -t1 -c1 -H 'Connection: close'` from <lab>-c1 as consecutive
 * slices of 10 s (`--sustained-seconds` in all), against a fresh stackd, then against the
 * kernel peer. After each slice: stackd's TIME_WAIT gauge, drop_tcp_time_wait_limit and
 * tcp_time_wait_reused from /stats; for the kernel, the TIME_WAIT sockets of <lab>-c2
 * (`ss -tan state time-wait`) and its TcpExt.TCPTimeWaitOverflow. The server closes first
 * (Connection: close), so the TIME_WAIT states are on the serving side.
 */
import { formatTable, nsKernelCounters, runIn, stackdStats, total } from '../lab-bench.js';
import { hostOf, type RunContext } from './context.js';
import type { Target } from './results.js';

/** Seconds per slice. */
const SLICE_SECONDS = 10;

/** One slice of one side. */
interface Slice {
  /** Start and end of the slice, seconds since the side's start. */
  from: number;
  at: number;
  connPerSecond: number;
  timeWait: number;
  /** Connections that could not enter TIME_WAIT because the table was full (since the side's start). */
  timeWaitOverflow: number;
  /** stackd: SYNs that took over a TIME_WAIT connection (since the side's start); the kernel: not measured. */
  timeWaitReused: number;
  errors: string;
}

/** The TIME_WAIT state of a side: [in TIME_WAIT now, overflow total, reused total]. */
async function timeWaitState(ctx: RunContext, t: Target, control: string): Promise<[number, number, number]> {
  if (t === 'stackd') {
    const s = await stackdStats(control);
    return [total(s, 'tcp_time_wait'), total(s, 'drop_tcp_time_wait_limit'), total(s, 'tcp_time_wait_reused')];
  }
  const ss = await runIn(ctx.c2, 'bash', ['-c', 'ss -Htan state time-wait | wc -l'], 10_000);
  const k = await nsKernelCounters(ctx.c2);
  return [Number(ss.stdout.trim()), Object.hasOwn(k, 'TcpExt.TCPTimeWaitOverflow') ? k['TcpExt.TCPTimeWaitOverflow'] : NaN, NaN];
}

/** One wrk slice: connections/s and wrk's socket-error line (empty if none). */
async function wrkSlice(ctx: RunContext, t: Target, seconds: number): Promise<{ rate: number; errors: string }> {
  const r = await runIn(ctx.c1, 'wrk', ['-t1', '-c1', `-d${seconds}s`, '--timeout', '2s', '-H', 'Connection: close', `http://${hostOf(t)}/`], seconds * 1000 + 20_000);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (r.status !== 0 || !rate) return { rate: NaN, errors: `wrk failed: status ${r.status} ${r.stderr.trim()}` };
  const errs = /Socket errors: (.*)/.exec(r.stdout)?.[1] ?? '';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1];
  return { rate: Number(rate[1]), errors: [errs, non2xx ? `non-2xx ${non2xx}` : ''].filter(Boolean).join(', ') };
}

/** Runs `seconds` of slices against side `t`; prints each slice as it ends. */
async function side(ctx: RunContext, t: Target, seconds: number, control: string, w: number): Promise<Slice[]> {
  const [tw0, overflow0, reused0] = await timeWaitState(ctx, t, control);
  console.log(`  sustained ${t.padEnd(6)} start: TIME_WAIT ${tw0}${t === 'kernel' ? ' (left from earlier runs, if any)' : ''}`);
  const slices: Slice[] = [];
  for (let at = 0; at < seconds;) {
    const len = Math.min(SLICE_SECONDS, seconds - at);
    const { rate, errors } = await wrkSlice(ctx, t, len);
    at += len;
    const [tw, overflow, reused] = await timeWaitState(ctx, t, control);
    const s: Slice = { from: at - len, at, connPerSecond: rate, timeWait: tw, timeWaitOverflow: overflow - overflow0, timeWaitReused: reused - reused0, errors };
    slices.push(s);
    console.log(`  sustained ${t.padEnd(6)} ${String(s.from).padStart(3)}-${String(at).padEnd(3)} s ${rate.toFixed(0).padStart(6)} conn/s, TIME_WAIT ${tw}, ` +
      `overflow +${s.timeWaitOverflow}${t === 'stackd' ? `, TIME_WAIT reused +${s.timeWaitReused}` : ''}${errors ? `, ${errors}` : ''}`);
    if (errors) ctx.note(`sustained against ${t} (workers ${w}), slice ending at ${at} s: ${errors}`);
  }
  return slices;
}

/**
 * The sustained run for `w` workers: a fresh stackd, a short warm-up (ARP, keep-alive
 * requests, which leave no TIME_WAIT on the server), `seconds` against stackd then
 * against the kernel peer; prints the slices of both side by side and records the first
 * and last slice's rate ('sustained first', 'sustained last') and their ratio.
 */
export async function runSustained(ctx: RunContext, w: number, seconds: number): Promise<void> {
  const stackd = await ctx.freshStackd(w);
  console.log(`\n== sustained, stackd --workers ${w} (pid ${stackd.pid}): ${seconds} s of wrk -t1 -c1 'Connection: close' from ${ctx.c1} per side, ${SLICE_SECONDS} s slices`);
  for (const t of ['stackd', 'kernel'] as const) {
    await runIn(ctx.c1, 'ping', ['-c', '5', '-i', '0.01', '-q', hostOf(t)], 10_000);
    await runIn(ctx.c1, 'wrk', ['-t1', '-c1', '-d1s', `http://${hostOf(t)}/`], 15_000);
  }
  const bySide = { stackd: await side(ctx, 'stackd', seconds, stackd.control, w), kernel: await side(ctx, 'kernel', seconds, stackd.control, w) };
  const n = Math.max(bySide.stackd.length, bySide.kernel.length);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const s = bySide.stackd.at(i);
    const k = bySide.kernel.at(i);
    const slice = s ?? k;
    rows.push([slice ? `${slice.from}-${slice.at} s` : '',
      s ? s.connPerSecond.toFixed(0) : '', s ? String(s.timeWait) : '', s ? String(s.timeWaitOverflow) : '', s ? String(s.timeWaitReused) : '',
      k ? k.connPerSecond.toFixed(0) : '', k ? String(k.timeWait) : '', k ? String(k.timeWaitOverflow) : '']);
  }
  console.log(`\nsustained conn/s from one client address, --workers ${w} (overflow: connections that skipped TIME_WAIT because the table was full, since the side's start)`);
  console.log(formatTable(['slice', 'stackd conn/s', 'TIME_WAIT', 'tw-limit drops', 'tw reused', 'kernel conn/s', 'TIME_WAIT', 'TCPTimeWaitOverflow'], rows));
  for (const t of ['stackd', 'kernel'] as const) {
    const sl = bySide[t];
    const first = sl.length > 0 ? sl[0].connPerSecond : NaN;
    const last = sl.length > 0 ? sl[sl.length - 1].connPerSecond : NaN;
    ctx.results.put('sustained first', w, t, first);
    ctx.results.put('sustained last', w, t, last);
    console.log(`  ${t}: last / first slice = ${(last / first).toFixed(2)} (${last.toFixed(0)} / ${first.toFixed(0)} conn/s)`);
  }
}
