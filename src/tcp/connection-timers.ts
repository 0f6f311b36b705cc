/**
 * How long a connection lives: its timers when they fire (retransmission, persist,
 * delayed ACK, keepalive, FIN_WAIT_2, TIME_WAIT), the limits that end it, and orphans.
 *
 * RFC 9293 3.10.8 (timeouts), RFC 6298 5 via the sender (RTO; the SYN and SYN-ACK are
 * retransmitted here, synRetries times), RFC 1122 4.2.3.5 (give up after dataRetries:
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, ETIMEDOUT), RFC 9293 3.8.6.1 (zero-window
 * probes, via the sender), RFC 1122 4.2.3.2 (delayed ACK), 4.2.3.6 (keepalive: probes with
 * SEG.SEQ = SND.NXT − 1 after keepaliveIdle of silence, keepaliveProbes of them at
 * keepaliveIntervalMs, then RST), RFC 9293 3.6 / 3.4.2 (TIME_WAIT for 2·MSL). A connection
 * that times out ends with the soft error an ICMP message reported, if any, else ETIMEDOUT
 * (RFC 1122 4.2.3.9, Linux sk_err_soft; ./connection-icmp.ts); before each RTO of data,
 * black-hole detection may lower the path MTU (./connection-mss.ts).
 *
 * Orphans (close()): the application is done in both directions. Like Linux tcp_close /
 * tcp_check_oom (tcp_max_orphans), a close() that would make more than maxOrphans orphans
 * in the shard resets the connection instead (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>,
 * tcp_orphans_overflow_resets). An orphan in FIN_WAIT_2 is dropped finWait2Ms after it got
 * there (or after close(), if later), silently, as Linux's FIN_WAIT_2 timewait socket
 * expires without a segment (tcp_fin_wait2_timeouts); segments do not restart that timer,
 * and a connection that is only half-closed (shutdownWrite) has no such timeout. Like
 * Linux tcp_orphan_retries, an orphan gives up after orphanRetries retransmission
 * timeouts instead of dataRetries (RST, tcp_timeouts and tcp_orphan_timeouts), and an
 * orphan held by a zero window after orphanRetries window probes (Linux tcp_probe_timer).
 */
import { C } from '../base/counters.js';
import type { TcpConnection } from './connection.js';
import { detectBlackHole, followPathMtu } from './connection-mss.js';
import { State } from './tcp-state.js';
import { T_DELACK, T_FINWAIT2, T_KEEPALIVE, T_PERSIST, T_REORDER, T_RTO } from './timers.js';
import { TE_RTO, TE_TIMER } from './trace.js';

/** Runs the connection's timers due at `now`, then sends what they made due. */
export function runDueTimers(c: TcpConnection, now: number): void {
  let t: number;
  while ((t = c.timers.takeDue(now)) >= 0) {
    // The retransmission timer is traced as what it did (RTO, loss probe: the sender).
    if (t !== T_RTO && c.traceSlot >= 0) c.trace(TE_TIMER, 0, t, c.snd.sndUna, c.rcv.rcvNxt, 0, 0, now);
    switch (t) {
      case T_RTO:
        retransmissionTimeout(c, now);
        break;
      case T_PERSIST:
        // Linux tcp_probe_timer: an orphan stuck behind a zero window gives up after
        // orphanRetries probes (probes restart from 0 when the window opens).
        if (c.orphaned && c.snd.probes >= c.host.config.orphanRetries && c.snd.sndWnd === 0) {
          c.host.counters[C.tcp_timeouts]++;
          c.host.counters[C.tcp_orphan_timeouts]++;
          c.out.sendRst(c.snd.sndNxt, c.rcv.rcvNxt, true, now);
          c.terminate(c.softError ?? 'ETIMEDOUT');
          return;
        }
        c.snd.onPersist(now, c.out);
        break;
      case T_REORDER:
        c.snd.onLossTimer(now, c.out);
        break;
      case T_DELACK:
        if (c.rcv.ackPending) {
          c.host.counters[C.tcp_delayed_acks]++;
          c.out.ackNow();
        }
        break;
      case T_KEEPALIVE:
        keepaliveTimeout(c, now);
        break;
      case T_FINWAIT2:
        if (c.state === State.FIN_WAIT_2 && c.orphaned) {
          // Linux tcp_fin_timeout: the orphan's FIN_WAIT_2 (timewait) socket expires
          // without a segment; a peer that speaks later gets RST for a closed port.
          c.host.counters[C.tcp_fin_wait2_timeouts]++;
          c.terminate(undefined);
          return;
        }
        break;
      default:
        break;
    }
    if (c.state === State.CLOSED) return;
  }
  c.flush(now);
}

/** The retransmission timer: the SYN or SYN-ACK again, or the sender's RTO; gives up past the retry limit. */
function retransmissionTimeout(c: TcpConnection, now: number): void {
  const cfg = c.host.config;
  if (c.state === State.SYN_SENT || c.state === State.SYN_RECEIVED) {
    if (!c.snd.onSynTimeout(cfg.synRetries)) {
      c.host.counters[C.tcp_timeouts]++;
      c.terminate(c.softError ?? 'ETIMEDOUT');
      return;
    }
    c.host.counters[C.tcp_retransmits]++;
    c.out.traceEvent(TE_RTO, c.snd.retries, c.snd.iss, c.snd.sndMax, now);
    c.out.sendSyn(c.state === State.SYN_RECEIVED, now);
    c.timers.set(T_RTO, now + c.snd.rtt.rto);
    return;
  }
  followPathMtu(c, now); // another connection's ICMP may explain the loss: resend at its size
  detectBlackHole(c, now);
  // Linux tcp_orphan_retries: an orphan gives up sooner than a connection someone owns.
  if (!c.snd.onRto(now, c.orphaned ? cfg.orphanRetries : cfg.dataRetries, c.out)) {
    c.host.counters[C.tcp_timeouts]++;
    if (c.orphaned) c.host.counters[C.tcp_orphan_timeouts]++;
    c.out.sendRst(c.snd.sndNxt, c.rcv.rcvNxt, true, now);
    c.terminate(c.softError ?? 'ETIMEDOUT');
  }
}

/** Starts the keepalive idle timer (when keepalive is on). */
export function armKeepalive(c: TcpConnection, now: number): void {
  if (c.keepaliveIdle > 0) c.timers.set(T_KEEPALIVE, now + c.keepaliveIdle);
}

/** The peer spoke: the idle time starts again and unanswered probes are forgotten. */
export function touchKeepalive(c: TcpConnection, now: number): void {
  c.keepaliveSent = 0;
  if (c.keepaliveIdle > 0) c.timers.set(T_KEEPALIVE, now + c.keepaliveIdle);
}

/** RFC 1122 4.2.3.6: another probe, or RST once keepaliveProbes went unanswered. */
function keepaliveTimeout(c: TcpConnection, now: number): void {
  if (c.keepaliveIdle <= 0 || c.state !== State.ESTABLISHED && c.state !== State.CLOSE_WAIT) return;
  if (c.keepaliveSent >= c.host.config.keepaliveProbes) {
    c.host.counters[C.tcp_timeouts]++;
    c.out.sendRst(c.snd.sndNxt, c.rcv.rcvNxt, true, now);
    c.terminate(c.softError ?? 'ETIMEDOUT');
    return;
  }
  c.keepaliveSent++;
  c.host.counters[C.tcp_keepalive_probes]++;
  c.out.sendKeepaliveProbe(now);
  c.timers.set(T_KEEPALIVE, now + c.host.config.keepaliveIntervalMs);
}

/**
 * TIME_WAIT (RFC 9293 3.6): the socket hears the close now; the layer keeps a compact
 * record for 2·MSL (./time-wait.ts) and the connection object leaves its tables (it still
 * sends the ACK this segment owes).
 */
export function enterTimeWait(c: TcpConnection, now: number): void {
  uncountOrphan(c);
  c.moveTo(State.TIME_WAIT);
  c.timers.clearAll();
  c.notifyClosed(undefined);
  c.snd.buf.dispose(); // our FIN is ACKed: nothing left to send
  c.host.onTimeWait(c, now);
}

/** close() made the connection an orphan: counted against maxOrphans (see the header). */
export function becomeOrphan(c: TcpConnection, now: number): void {
  if (c.host.orphans >= c.host.config.maxOrphans) {
    // Linux tcp_close → tcp_check_oom (tcp_max_orphans): one orphan too many. Reset
    // instead of finishing: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, as abort() does.
    c.host.counters[C.tcp_orphans_overflow_resets]++;
    c.out.sendRst(c.snd.sndNxt, c.rcv.rcvNxt, true, now);
    c.terminate(undefined);
    return;
  }
  c.countedOrphan = true;
  c.host.orphanCountChanged(1);
  if (c.state === State.FIN_WAIT_2) c.timers.set(T_FINWAIT2, now + c.host.config.finWait2Ms);
  c.host.markDirty(c);
}

/** The orphan reached TIME_WAIT or CLOSED: it leaves the layer's orphan count. */
export function uncountOrphan(c: TcpConnection): void {
  if (!c.countedOrphan) return;
  c.countedOrphan = false;
  c.host.orphanCountChanged(-1);
}
