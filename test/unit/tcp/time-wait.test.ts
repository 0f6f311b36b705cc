/**
 * TIME_WAIT as compact records (src/tcp/time-wait.ts) and the TCP layer's use of them:
 * records end in order, a retransmitted FIN moves one to the back, a full table drops its
 * oldest record to make room (counted) instead of refusing the new one, a freed slot's
 * generation tells an old holder its record is gone, the 4-tuple index finds exactly the
 * records held through any sequence of adds, removals, expiries and growth (fast-check,
 * against a Map), and a closed connection leaves the connection table while its record
 * answers the peer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPV6_ID_BASE } from '../../../src/base/ipv6-interner.js';
import { C } from '../../../src/base/counters.js';
import { NO_RECORD, TimeWaitTable, tupleHash } from '../../../src/tcp/time-wait.js';
import { TcpPair } from '../../helpers/tcp-pair.js';

/** Our (IPv4) address in these records. */
const LOCAL = 0x0a000002;

function add(t: TimeWaitTable, port: number, end: number): number {
  return t.add(LOCAL, 80, 0x0a000001, port, 1000 + port, 2000 + port, 500, false, 0, 0, end);
}

describe('TimeWaitTable', () => {
  it('RFC 9293 3.1: records of one peer address and port to two of our IPv6 addresses are two records (the local address is in the key)', () => {
    const t = new TimeWaitTable(10);
    const ours1 = IPV6_ID_BASE + 1;
    const ours2 = IPV6_ID_BASE + 2;
    const peer = IPV6_ID_BASE + 7;
    const a = t.add(ours1, 80, peer, 40000, 1, 1, 500, false, 0, 0, 100);
    const b = t.add(ours2, 80, peer, 40000, 2, 2, 500, false, 0, 0, 100);
    expect(t.size).toBe(2);
    expect(t.lookup(ours1, 80, peer, 40000)).toBe(a);
    expect(t.lookup(ours2, 80, peer, 40000)).toBe(b);
    t.remove(a);
    expect(t.lookup(ours1, 80, peer, 40000)).toBe(NO_RECORD);
    expect(t.lookup(ours2, 80, peer, 40000)).toBe(b);
  });

  it('finds records by 4-tuple and ends them in the order of their end, oldest first', () => {
    const t = new TimeWaitTable(10);
    for (let p = 1; p <= 5; p++) add(t, p, 100 + p);
    expect(t.size).toBe(5);
    expect(t.lookup(LOCAL, 80, 0x0a000001, 3)).not.toBe(NO_RECORD);
    expect(t.lookup(LOCAL, 81, 0x0a000001, 3)).toBe(NO_RECORD);
    expect(t.nextEnd()).toBe(101);
    expect(t.expire(103)).toBe(3);
    expect([...t.records()].map((s) => t.remotePortOf(s))).toEqual([4, 5]);
    expect(t.lookup(LOCAL, 80, 0x0a000001, 2)).toBe(NO_RECORD);
  });

  it('restart() moves a record to the back with its new end', () => {
    const t = new TimeWaitTable(10);
    const a = add(t, 1, 100);
    add(t, 2, 110);
    t.restart(a, 200);
    expect([...t.records()].map((s) => t.remotePortOf(s))).toEqual([2, 1]);
    expect(t.expire(150)).toBe(1);
    expect(t.nextEnd()).toBe(200);
  });

  it('a full table drops its oldest record for a new one and says so; capacity 0 holds nothing', () => {
    const t = new TimeWaitTable(3);
    for (let p = 1; p <= 3; p++) add(t, p, 100 + p);
    expect(t.evicted).toBe(0);
    add(t, 4, 104);
    expect(t.evicted).toBe(1);
    expect(t.size).toBe(3);
    expect([...t.records()].map((s) => t.remotePortOf(s))).toEqual([2, 3, 4]);
    expect(new TimeWaitTable(0).add(0x0a000002, 80, 1, 1, 0, 0, 0, false, 0, 0, 1)).toBe(NO_RECORD);
  });

  it('a freed slot changes generation, so an old holder sees its record gone even when the slot is reused', () => {
    const t = new TimeWaitTable(1);
    const s = add(t, 1, 100);
    const g = t.generationOf(s);
    expect(t.alive(s, g)).toBe(true);
    const s2 = add(t, 2, 101); // evicts the first, reuses its slot
    expect(s2).toBe(s);
    expect(t.alive(s, g)).toBe(false);
    expect(t.alive(s2, t.generationOf(s2))).toBe(true);
  });

  it('grows past its first arrays and keeps every record', () => {
    const t = new TimeWaitTable(5000);
    for (let p = 1; p <= 3000; p++) add(t, p, p);
    expect(t.size).toBe(3000);
    expect(t.seqOf(t.lookup(LOCAL, 80, 0x0a000001, 2999))).toBe(1000 + 2999);
    expect(t.expire(3000)).toBe(3000);
    expect(t.size).toBe(0);
  });

  it('the index finds exactly the records held, whatever the order of adds, removals, expiries and growth (property, against a Map)', () => {
    const peers = [0x0a000001, 0x0a000003, IPV6_ID_BASE + 5]; // two IPv4 peers and an interned IPv6 one
    const locals = [LOCAL, IPV6_ID_BASE + 1];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), peer: fc.nat({ max: 2 }), local: fc.nat({ max: 1 }), port: fc.integer({ min: 1024, max: 1100 }) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('expire' as const), steps: fc.nat({ max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), fc.array(op, { minLength: 300, maxLength: 800 }), (capacity, ops) => {
        const t = new TimeWaitTable(capacity);
        const model = new Map<string, number>(); // 4-tuple → end
        let now = 0;
        const key = (l: number, p: number, port: number): string => `${l}|${p}|${port}`;
        for (const o of ops) {
          now++;
          if (o.kind === 'add') {
            const [l, p] = [locals[o.local], peers[o.peer]];
            t.add(l, 80, p, o.port, 1, 1, 500, false, 0, 0, now + 100);
            model.delete(key(l, p, o.port));
            if (model.size >= capacity) model.delete(model.keys().next().value!); // the oldest goes
            model.set(key(l, p, o.port), now + 100);
          } else if (o.kind === 'remove' && t.size > 0) {
            const slots = [...t.records()];
            const s = slots[o.pick % slots.length];
            model.delete(key(t.localIpOf(s), t.remoteIpOf(s), t.remotePortOf(s)));
            t.remove(s);
          } else if (o.kind === 'expire') {
            now += o.steps;
            t.expire(now);
            for (const [k, end] of model) if (end <= now) model.delete(k);
          }
        }
        expect(t.size).toBe(model.size);
        for (const l of locals) {
          for (const p of peers) {
            for (let port = 1024; port <= 1100; port++) {
              const s = t.lookup(l, 80, p, port);
              expect(s !== NO_RECORD).toBe(model.has(key(l, p, port)));
              if (s !== NO_RECORD) expect([t.localIpOf(s), t.remoteIpOf(s), t.remotePortOf(s)]).toEqual([l, p, port]);
            }
          }
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });

  it('the index hash spreads the 4-tuples of one client address over the buckets', () => {
    const buckets = new Uint32Array(1 << 16);
    for (let port = 0; port < 1 << 16; port++) buckets[tupleHash(80, 0x0a0a0003, port) & 0xffff]++;
    const used = buckets.filter((n) => n > 0).length;
    expect(used / buckets.length).toBeGreaterThan(0.6); // random placement fills 1 − 1/e ≈ 0.63
    expect(Math.max(...buckets)).toBeLessThan(12);
  });

  it('RFC 9293 3.10.7.4 / Linux: a SYN reopens over a record with a higher sequence number or a newer TSval, not an older TSval', () => {
    const t = new TimeWaitTable(4);
    const plain = t.add(0x0a000002, 80, 1, 1, 0, 5000, 0, false, 0, 0, 100);
    expect(t.acceptsSyn(plain, 5001, false, 0)).toBe(true);
    expect(t.acceptsSyn(plain, 4999, false, 0)).toBe(false);
    const ts = t.add(0x0a000002, 80, 1, 2, 0, 5000, 0, true, 777, 0, 100);
    expect(t.acceptsSyn(ts, 4000, true, 778)).toBe(true);
    expect(t.acceptsSyn(ts, 6000, true, 776)).toBe(false);
    expect(t.acceptsSyn(ts, 6000, true, 777)).toBe(true);
    expect(t.acceptsSyn(ts, 4000, true, 777)).toBe(false);
  });
});

describe('TIME_WAIT in the TCP layer', () => {
  it('the active closer keeps a record, not the connection; a full table drops the oldest record and new connections are served', () => {
    const p = new TcpPair({ tcp: { maxTimeWait: 2 } }, {});
    const closeOne = (port: number) => {
      const { client, server } = p.connect(port);
      client.shutdownWrite();
      p.run(p.now + 100);
      server.shutdownWrite();
      p.run(p.now + 100);
      return client;
    };
    const first = closeOne(81);
    expect(first.stateName).toBe('TIME_WAIT');
    expect([...p.a.tcp.connections()]).toHaveLength(0); // only a record remains
    expect(p.countersA[C.tcp_time_wait]).toBe(1);
    closeOne(82);
    const third = closeOne(83);
    expect(p.countersA[C.tcp_time_wait]).toBe(2);
    expect(p.countersA[C.drop_tcp_time_wait_limit]).toBe(1);
    expect(first.stateName).toBe('CLOSED'); // its record made room
    expect(third.stateName).toBe('TIME_WAIT');
    expect([...p.a.tcp.timeWaitRecords()].map((r) => r.remotePort)).toEqual([82, 83]);
    // No RST and no FIN retransmission anywhere: each final ACK went out before the record.
    expect(p.countersA[C.tcp_resets_tx] + p.countersB[C.tcp_resets_tx]).toBe(0);
    expect(p.countersB[C.tcp_retransmits]).toBe(0);
  });
});

describe('the timer heap and connections that left the tables', () => {
  it('a connection that moved to a TIME_WAIT record is not kept alive by the stale entries of its timers (lazy deletion)', () => {
    const p = new TcpPair({}, {});
    // Orphans in FIN_WAIT_2: each waits finWait2Ms (60 s) in the heap once its FIN's RTO entry is gone.
    const orphan = (port: number) => {
      const { client, server } = p.connect(port);
      client.close();
      p.run(p.now + 500);
      expect(client.stateName).toBe('FIN_WAIT_2');
      return { client, server };
    };
    const kept = orphan(80); // its entry stays at the heap's top, below which stale entries wait for their deadlines
    const gone: unknown[] = [];
    for (let port = 81; port <= 90; port++) {
      const { client, server } = orphan(port);
      server.close(); // the peer's FIN: the orphan moves to a TIME_WAIT record, its 60 s entry goes stale
      p.run(p.now + 5);
      expect(client.stateName).toBe('TIME_WAIT');
      gone.push(client);
    }
    const held = p.a.tcp.timerHeapConnections();
    expect([...held].filter((c) => gone.includes(c))).toEqual([]);
    expect([...held].includes(kept.client as never)).toBe(true);
    // The connection still in FIN_WAIT_2 keeps its timer: it ends finWait2Ms after its close.
    p.run(p.now + 60_000);
    expect(kept.client.stateName).toBe('CLOSED');
    expect(p.countersA[C.tcp_fin_wait2_timeouts]).toBe(1);
  });
});

describe('the connection limit', () => {
  it('a full connection table refuses a new client at once with RST (counted), and serves again once a connection ends', () => {
    const p = new TcpPair({}, { tcp: { maxConnections: 1 } });
    const first = p.connect(80);
    expect(first.server.stateName).toBe('ESTABLISHED');
    const second = p.a.tcp.connect(p.b.config.ip, 80)!;
    const rec = { err: '' as string | undefined };
    second.events = { onConnect() {}, onData() {}, onEnd() {}, onWritable() {}, onClose(e) { rec.err = e; } };
    p.run(p.now + 100);
    expect(rec.err).toBe('ECONNREFUSED');
    expect(p.countersB[C.drop_tcp_conn_limit]).toBe(1);
    first.client.abort();
    p.run(p.now + 100);
    const third = p.a.tcp.connect(p.b.config.ip, 80)!;
    p.run(p.now + 100);
    expect(third.stateName).toBe('ESTABLISHED');
  });
});
