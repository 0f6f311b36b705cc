/**
 * What the two ends of one bulk transfer of perf/tcp-bench.ts did, from counters read
 * before and after it: the sender's RTOs, fast recoveries entered, retransmissions, D-SACKs
 * received and the reductions it undid as spurious (fast recovery / RTO), and the
 * receiver's out-of-order arrivals (did it meet holes?).
 *
 * Who sends and who receives, and where its counters are:
 *   stackd upload     c1's kernel → stackd         sender c1 /proc/net, receiver stackd /stats
 *   stackd download   stackd → c1's kernel         sender stackd /stats, receiver c1 /proc/net
 *   kernel upload     c1's kernel → c2's kernel    sender c1, receiver c2 (the kernel peer)
 *   kernel download   c2's kernel → c1's kernel    sender c2, receiver c1
 * The kernel's counters are per network namespace (/proc/net/snmp and /proc/net/netstat
 * read inside it), and during a transfer nothing else runs in c1 or c2. stackd's are the
 * totals of /stats (shared counters, current when read).
 */
import type { Target } from './results.js';

/** Where a set of counters comes from: stackd's /stats, or the kernel of namespace c1 or c2. */
export type CounterSource = 'stackd' | 'c1' | 'c2';
/** One reading of every source (kernel: 'Tcp.RetransSegs', 'TcpExt.TCPTimeouts', ...; stackd: 'tcp_retransmits', ...). */
export type CounterReading = Record<CounterSource, Record<string, number>>;

/** What one transfer's ends did (totals so far, or the difference around a transfer). */
export interface TransferFigures {
  rtos: number;
  recoveries: number;
  retransmits: number;
  dsacks: number;
  fastUndos: number;
  rtoUndos: number;
  /** Receiver: segments that arrived out of order (stackd: tcp_ooo_segments; kernel: TCPOFOQueue, per sk_buff). */
  outOfOrder: number;
  /**
   * Both ends: SYN and SYN-ACK retransmissions (stackd: tcp_syn_timeouts, also among its
   * RTOs; kernel: TCPSynRetrans). A lost handshake segment costs the transfer a second.
   */
  handshakes: number;
}

/** The counters each figure sums: stackd's, and the kernel's /proc/net names. */
const COUNTERS: Record<'stackd' | 'kernel', Record<keyof TransferFigures, string[]>> = {
  stackd: {
    rtos: ['tcp_rto_timeouts'], recoveries: ['tcp_fast_retransmits'], retransmits: ['tcp_retransmits'],
    dsacks: ['tcp_dsacks_rx'], fastUndos: ['tcp_fast_retransmit_undos'], rtoUndos: ['tcp_rto_undos'],
    outOfOrder: ['tcp_ooo_segments'], handshakes: ['tcp_syn_timeouts'],
  },
  kernel: {
    rtos: ['TcpExt.TCPTimeouts'], recoveries: ['TcpExt.TCPSackRecovery', 'TcpExt.TCPRenoRecovery'], retransmits: ['Tcp.RetransSegs'],
    dsacks: ['TcpExt.TCPDSACKRecv'], fastUndos: ['TcpExt.TCPDSACKUndo', 'TcpExt.TCPFullUndo', 'TcpExt.TCPPartialUndo'],
    rtoUndos: ['TcpExt.TCPLossUndo'], outOfOrder: ['TcpExt.TCPOFOQueue'], handshakes: ['TcpExt.TCPSynRetrans'],
  },
};

/** The sending and the receiving end of a transfer (see the table above). */
export function transferEnds(t: Target, direction: 'upload' | 'download'): { sender: CounterSource; receiver: CounterSource } {
  const server: CounterSource = t === 'stackd' ? 'stackd' : 'c2';
  return direction === 'upload' ? { sender: 'c1', receiver: server } : { sender: server, receiver: 'c1' };
}

/** The figures of transfer (t, direction) in one reading. */
export function transferFigures(t: Target, direction: 'upload' | 'download', r: CounterReading): TransferFigures {
  const { sender, receiver } = transferEnds(t, direction);
  const sum = (side: CounterSource, k: keyof TransferFigures): number =>
    COUNTERS[side === 'stackd' ? 'stackd' : 'kernel'][k].reduce((a, n) => a + (r[side][n] ?? 0), 0);
  return {
    rtos: sum(sender, 'rtos'), recoveries: sum(sender, 'recoveries'), retransmits: sum(sender, 'retransmits'),
    dsacks: sum(sender, 'dsacks'), fastUndos: sum(sender, 'fastUndos'), rtoUndos: sum(sender, 'rtoUndos'),
    outOfOrder: sum(receiver, 'outOfOrder'), handshakes: sum(sender, 'handshakes') + sum(receiver, 'handshakes'),
  };
}

/** What the ends did between readings `a` and `b`. */
export function transferDelta(t: Target, direction: 'upload' | 'download', a: CounterReading, b: CounterReading): TransferFigures {
  const x = transferFigures(t, direction, a);
  const y = transferFigures(t, direction, b);
  const d = { ...y };
  for (const k of Object.keys(d) as (keyof TransferFigures)[]) d[k] -= x[k];
  return d;
}

/** What the ends did between readings `a` and `b`, as one line naming where each figure comes from. */
export function transferLine(t: Target, direction: 'upload' | 'download', a: CounterReading, b: CounterReading): string {
  return transferDeltaLine(t, direction, transferDelta(t, direction, a, b));
}

/** A transferDelta() as transferLine() prints it. */
export function transferDeltaLine(t: Target, direction: 'upload' | 'download', delta: TransferFigures): string {
  const d = (k: keyof TransferFigures): number => delta[k];
  const { sender, receiver } = transferEnds(t, direction);
  return `sender (${sender}): RTOs ${d('rtos')}, fast recoveries ${d('recoveries')}, retransmissions ${d('retransmits')}, ` +
    `D-SACKs ${d('dsacks')}, undos ${d('fastUndos')} fast / ${d('rtoUndos')} RTO; receiver (${receiver}): out of order ${d('outOfOrder')}; ` +
    `handshake retransmissions (both ends) ${d('handshakes')}`;
}
