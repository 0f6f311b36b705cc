/**
 * The soak run of perf/tcp-bench.ts (`--only soak`, issue 8 item 7): mixed load on a fresh
 * stackd for `--soak-minutes`, all from <lab>-c1 at once: `wrk -t1 -c50 -H 'Connection:
 * close'` for the whole time, 100 MB uploads to discard :9 (nc) one after another, and
 * 200 MB downloads of GET /bytes (curl) one after another. Every 30 s, and 30 s and 60 s
 * after the load stopped, a row: stackd's RSS, its peak so far (VmHWM), the V8 heaps of
 * the data-plane threads and the external memory they hold (ArrayBuffers), connections,
 * TIME_WAIT, connections/s over the interval, transfers done. The kernel side is not
 * measured.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTable, interrupted, mib, peakRssBytes, rssBytes, runIn, stackdStats, total, type RunResult } from '../lab-bench.js';
import { STACKD_IP, type RunContext } from './context.js';

/** Seconds between samples. */
const SAMPLE_SECONDS = 30;
const UPLOAD_BYTES = 100_000_000;
const DOWNLOAD_BYTES = 200_000_000;
/** A transfer slower than this (bytes/s) counts as stalled and is killed. */
const MIN_TRANSFER_RATE = 5e6;

/** Transfers done and failed by one loop. */
interface LoopCount {
  ok: number;
  failed: number;
}

/** Repeats `once` until `deadline` (ms) or a signal stops the benchmark, counting results that `ok` accepts. */
async function repeatUntil(deadline: number, once: () => Promise<RunResult>, ok: (r: RunResult) => boolean, count: LoopCount, onFail: (r: RunResult) => void): Promise<void> {
  while (Date.now() < deadline && !interrupted()) {
    const r = await once();
    if (ok(r)) count.ok++;
    else {
      count.failed++;
      onFail(r);
      await sleep(1000); // a failing transfer does not turn into a busy loop
    }
  }
}

/** The mixed load, started: it resolves (with wrk's result) when wrk and both transfer loops have ended. */
interface MixedLoad {
  done: Promise<RunResult>;
  uploads: LoopCount;
  downloads: LoopCount;
}

/** Starts wrk, the upload loop and the download loop from <lab>-c1 for `seconds`. */
function startMixedLoad(ctx: RunContext, w: number, seconds: number): MixedLoad {
  const deadline = Date.now() + seconds * 1000;
  const uploads: LoopCount = { ok: 0, failed: 0 };
  const downloads: LoopCount = { ok: 0, failed: 0 };
  const transferTimeout = 30_000 + (DOWNLOAD_BYTES / MIN_TRANSFER_RATE) * 1000;
  let failures = 0;
  const failed = (what: string) => (r: RunResult): void => {
    if (failures++ < 5) ctx.note(`soak (workers ${w}): ${what} failed: status ${r.status}${r.timedOut ? ' (timed out)' : ''} ${r.stderr.trim()} ${r.stdout.trim()}`);
  };
  const wrk = runIn(ctx.c1, 'wrk', ['-t1', '-c50', `-d${seconds}s`, '--timeout', '2s', '-H', 'Connection: close', `http://${STACKD_IP}/`], seconds * 1000 + 30_000);
  const up = repeatUntil(deadline, () => runIn(ctx.c1, 'bash', ['-c', `head -c ${UPLOAD_BYTES} /dev/zero | nc -N ${STACKD_IP} 9`], transferTimeout),
    (r) => r.status === 0 && !r.timedOut, uploads, failed('upload'));
  const down = repeatUntil(deadline, () => runIn(ctx.c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', String(transferTimeout / 1000 - 5), '-w', '%{http_code} %{size_download}',
    `http://${STACKD_IP}/bytes/${DOWNLOAD_BYTES}`], transferTimeout), (r) => r.status === 0 && r.stdout.trim() === `200 ${DOWNLOAD_BYTES}`, downloads, failed('download'));
  return { done: Promise.all([wrk, up, down]).then(([r]) => r), uploads, downloads };
}

/** The soak run for `w` workers over `minutes`. Records 'soak peak RSS' and 'soak RSS after'. */
export async function runSoak(ctx: RunContext, w: number, minutes: number): Promise<void> {
  const stackd = await ctx.freshStackd(w);
  const seconds = Math.round(minutes * 60);
  console.log(`\n== soak, stackd --workers ${w} (pid ${stackd.pid}): ${seconds} s of wrk -t1 -c50 'Connection: close' + ${UPLOAD_BYTES / 1e6} MB uploads + ${DOWNLOAD_BYTES / 1e6} MB downloads, from ${ctx.c1}`);
  await runIn(ctx.c1, 'ping', ['-c', '5', '-i', '0.01', '-q', STACKD_IP], 10_000);

  const header = ['time', 'phase', 'RSS MiB', 'peak MiB', 'V8 heaps MiB', 'external MiB', 'connections', 'TIME_WAIT', 'conn/s', 'uploads', 'downloads', 'drops'];
  const rows: string[][] = [];
  const start = Date.now();
  let prevOpens = total(await stackdStats(stackd.control), 'tcp_passive_opens');
  let prevAt = start;
  /** Prints and keeps a row; `load` (once started) gives the transfer counts. */
  const sample = async (phase: string, load?: MixedLoad): Promise<void> => {
    const s = await stackdStats(stackd.control);
    const now = Date.now();
    const opens = total(s, 'tcp_passive_opens');
    const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
    const row = [`${Math.round((now - start) / 1000)} s`, phase, mib(rssBytes(stackd.pid)), mib(peakRssBytes(stackd.pid)),
      mib(total(s, 'heap_total_bytes')), mib(total(s, 'heap_external_bytes')), String(total(s, 'tcp_connections')),
      String(total(s, 'tcp_time_wait')), ((opens - prevOpens) / Math.max(0.001, (now - prevAt) / 1000)).toFixed(0), String(load?.uploads.ok ?? 0), String(load?.downloads.ok ?? 0), String(drops)];
    prevOpens = opens;
    prevAt = now;
    rows.push(row);
    console.log(`  ${row.map((c, i) => `${header[i]} ${c}`).join(', ')}`);
  };
  await sample('idle');

  const load = startMixedLoad(ctx, w, seconds);
  let loadDone = false;
  void load.done.finally(() => {
    loadDone = true;
  });
  const isLoadDone = (): boolean => loadDone;
  let next = start + SAMPLE_SECONDS * 1000;
  while (!isLoadDone()) {
    // Wake at the next sample time or when the load ends, whichever is first.
    await Promise.race([sleep(Math.max(0, next - Date.now())), load.done]);
    if (isLoadDone()) break;
    await sample('load', load);
    next += SAMPLE_SECONDS * 1000;
  }
  const wrkResult = await load.done;
  const stopped = Date.now();
  await sample('load ended', load);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrkResult.stdout)?.[1];
  const errs = /Socket errors: (.*)/.exec(wrkResult.stdout)?.[1];
  if (!rps) ctx.note(`soak (workers ${w}): wrk failed: status ${wrkResult.status} ${wrkResult.stderr.trim()}`);
  if (errs) ctx.note(`soak (workers ${w}): wrk socket errors ${errs}`);
  for (const after of [30, 60]) {
    await sleep(Math.max(0, stopped + after * 1000 - Date.now()));
    await sample(`+${after} s idle`, load);
  }
  const peak = peakRssBytes(stackd.pid);
  ctx.results.put('soak peak RSS', w, 'stackd', peak / 2 ** 20);
  ctx.results.put('soak RSS after', w, 'stackd', rssBytes(stackd.pid) / 2 ** 20);
  const drops = Object.entries((await stackdStats(stackd.control)).drops).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  console.log(`\nsoak, --workers ${w}: stackd memory every ${SAMPLE_SECONDS} s (RSS = VmRSS, peak = VmHWM since stackd started; V8 heaps and external: the I/O thread's and the workers'; connections include TIME_WAIT; conn/s from tcp_passive_opens)`);
  console.log(formatTable(header, rows));
  console.log(`  wrk ${rps ?? 'n/a'} conn/s over the run${errs ? `, socket errors: ${errs}` : ''}; uploads ${load.uploads.ok} ok / ${load.uploads.failed} failed; ` +
    `downloads ${load.downloads.ok} ok / ${load.downloads.failed} failed; peak RSS ${mib(peak)} MiB`);
  console.log(`  stackd drops by reason: ${drops}`);
}
