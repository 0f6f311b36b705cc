/**
 * Two TCP cores talking over a virtual link: handshake, bulk data both ways, close
 * sequences, loss and reordering. Deterministic (virtual clock, scripted faults).
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { TcpPair, sendAll } from '../../helpers/tcp-pair.js';
import { asTcpConnection } from '../../helpers/tcp-peer.js';
import { patternBytes } from '../../helpers/frames.js';

describe('TCP between two cores', () => {
  it('three-way handshake reaches ESTABLISHED on both sides with negotiated options (RFC 9293 3.5, RFC 7323, RFC 2018)', () => {
    const p = new TcpPair();
    const { client, server, c } = p.connect();
    expect(c.connected).toBe(true);
    expect(client.stateName).toBe('ESTABLISHED');
    expect(server.stateName).toBe('ESTABLISHED');
    const cc = asTcpConnection(client);
    expect(cc.tsEnabled).toBe(true);
    expect(cc.sackEnabled).toBe(true);
    expect(cc.snd.mss).toBe(1460 - 12);
    expect(cc.snd.wscale).toBeGreaterThan(0);
    expect(p.countersA[C.tcp_active_opens]).toBe(1);
    expect(p.countersB[C.tcp_passive_opens]).toBe(1);
  });

  it('moves 1 MB each way byte-identical', () => {
    const p = new TcpPair();
    const { client, server, c, s } = p.connect();
    const up = patternBytes(1_000_000, 1);
    const down = patternBytes(1_000_000, 2);
    sendAll(client, up, p);
    sendAll(server, down, p);
    p.run(p.now + 10_000);
    expect(s.bytes().equals(Buffer.from(up))).toBe(true);
    expect(c.bytes().equals(Buffer.from(down))).toBe(true);
    expect(p.countersA[C.tcp_retransmits]).toBe(0);
  });

  it('closes cleanly: FIN both ways, the active closer lingers in TIME_WAIT for 2 MSL then goes (RFC 9293 3.6)', () => {
    const p = new TcpPair({ tcp: { mslMs: 1000 } });
    const { client, server, c, s } = p.connect();
    client.send(new TextEncoder().encode('bye'));
    client.shutdownWrite();
    p.run(p.now + 100);
    expect(s.ended).toBe(true);
    expect(server.stateName).toBe('CLOSE_WAIT');
    expect(client.stateName).toBe('FIN_WAIT_2');
    server.shutdownWrite();
    p.run(p.now + 100);
    expect(c.ended).toBe(true);
    expect(s.closed).toBe(true);
    expect(c.closed).toBe(true);
    expect(client.stateName).toBe('TIME_WAIT');
    expect(server.stateName).toBe('CLOSED');
    expect(p.countersA[C.tcp_time_wait]).toBe(1);
    p.run(p.now + 2500);
    expect(client.stateName).toBe('CLOSED');
    expect(p.countersA[C.tcp_time_wait]).toBe(0);
    expect(p.countersA[C.tcp_connections]).toBe(0);
  });

  it('recovers from 5% random loss with data intact', () => {
    const p = new TcpPair();
    const { client, s } = p.connect();
    let x = 12345;
    p.fault = (f) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 16) % 100 < 5 ? [] : [f];
    };
    const data = patternBytes(500_000, 3);
    sendAll(client, data, p);
    p.run(p.now + 120_000);
    expect(s.bytes().length).toBe(data.length);
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    expect(p.countersA[C.tcp_retransmits]).toBeGreaterThan(0);
  });

  it('delivers in order despite reordering and duplication', () => {
    const p = new TcpPair();
    const { client, s } = p.connect();
    p.fault = (f, i) => {
      if (i % 7 === 3) return [{ ...f, at: f.at + 5 }];
      if (i % 11 === 5) return [f, { ...f, at: f.at + 2 }];
      return [f];
    };
    const data = patternBytes(300_000, 4);
    sendAll(client, data, p);
    p.run(p.now + 60_000);
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    expect(p.countersB[C.tcp_ooo_segments]).toBeGreaterThan(0);
  });

  it('answers a SYN to a closed port with RST and the client sees ECONNREFUSED (RFC 9293 3.10.7.1)', () => {
    const p = new TcpPair();
    const client = p.a.tcp.connect(0x0a000002, 9)!;
    const rec = { closed: '' as string | undefined, onConnect() {}, onData() {}, onEnd() {}, onWritable() {}, onClose(e?: string) { rec.closed = e ?? 'none'; } };
    client.events = rec;
    p.run(p.now + 1000);
    expect(rec.closed).toBe('ECONNREFUSED');
    expect(p.countersB[C.tcp_resets_tx]).toBe(1);
  });
});

describe('TIME_WAIT limit', () => {
  it('over the limit the active closer still ACKs the peer\'s FIN, then skips TIME_WAIT (as Linux does)', () => {
    const p = new TcpPair({ tcp: { maxTimeWait: 0 } }, {});
    const { client, server, c, s } = p.connect();
    client.shutdownWrite();
    p.run(p.now + 100);
    server.shutdownWrite();
    p.run(p.now + 100);
    expect(c.closed && s.closed).toBe(true);
    expect(client.stateName).toBe('CLOSED');
    expect(server.stateName).toBe('CLOSED'); // got the final ACK: no FIN retransmission, no RST
    expect(p.countersA[C.drop_tcp_time_wait_limit]).toBe(1);
    expect(p.countersB[C.tcp_retransmits]).toBe(0);
    expect(p.countersA[C.tcp_resets_tx]).toBe(0);
  });
});
