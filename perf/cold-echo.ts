/**
 * What an idle gap costs the core: one Host (the sans-I/O stack, no threads, no TAP)
 * answers an ICMP echo request back to back, and then after 1, 3 and 10 ms in which the
 * thread only spins on the clock (`spin`: it never sleeps, makes no system call) or sleeps
 * in a timer (`sleep`). The back-to-back figure is the code's cost; the others add what it
 * costs to bring the code and data of the echo path back into caches and TLBs that other
 * work evicted meanwhile — on a VM sharing its host, the larger part of a sparse ping.
 *
 *   node dist/perf/cold-echo.js [--count 300]
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Host } from '../src/iface/host.js';
import { C, newCounters } from '../src/base/counters.js';
import type { TxOffload, TxSink } from '../src/base/link.js';
import { parseIpv4, parseMac } from '../src/wire/addresses.js';
import { writeEthernetHeader, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../src/wire/ethernet.js';
import { writeArp } from '../src/wire/arp.js';
import { fillIpv4Checksum } from '../src/wire/ipv4.js';
import { internetChecksum } from '../src/wire/checksum.js';
import { percentile } from './lab-bench.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, help: { type: 'boolean', short: 'h', default: false } } });
if (values.help) {
  console.log('usage: node dist/perf/cold-echo.js [--count 300]');
  process.exit(0);
}

const OUR_MAC = parseMac('02:00:00:00:00:04'), PEER_MAC = parseMac('02:00:00:00:00:03');
const OUR_IP = parseIpv4('10.10.0.4'), PEER_IP = parseIpv4('10.10.0.3');

/** A sink that keeps nothing: the reply is built in place and counted. */
class CountingSink implements TxSink {
  readonly buf = new Uint8Array(70_000);
  readonly gathers = false;
  frames = 0;
  attach(): void {
    throw new Error('CountingSink takes no pieces');
  }
  reserve(): number {
    return 0;
  }
  commit(_len: number, _offload: TxOffload | null): void {
    this.frames++;
  }
}

/** An Ethernet frame holding an ICMP echo request (56 data bytes, as ping sends) from the peer to us. */
function echoRequest(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 64);
  writeEthernetHeader(f, 0, OUR_MAC, PEER_MAC, ETHERTYPE_IPV4);
  const ip = 14;
  f[ip] = 0x45;
  f[ip + 3] = 84;
  f[ip + 8] = 64;
  f[ip + 9] = 1;
  new DataView(f.buffer).setUint32(ip + 12, PEER_IP);
  new DataView(f.buffer).setUint32(ip + 16, OUR_IP);
  fillIpv4Checksum(f, ip);
  const icmp = ip + 20;
  f[icmp] = 8;
  f[icmp + 5] = 1;
  for (let i = 8; i < 64; i++) f[icmp + i] = i;
  const c = internetChecksum(f, icmp, 64);
  f[icmp + 2] = c >> 8;
  f[icmp + 3] = c & 0xff;
  return f;
}

const counters = newCounters();
const sink = new CountingSink();
const host = new Host(
  { mac: OUR_MAC, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 },
  sink, counters, () => {}, {},
);
const arp = new Uint8Array(60);
writeEthernetHeader(arp, 0, 0xffffffffffff, PEER_MAC, ETHERTYPE_ARP);
writeArp(arp, 14, 1, PEER_MAC, PEER_IP, 0, OUR_IP);
host.receive(arp, 0, arp.length, performance.now()); // learn the peer's MAC
const request = echoRequest();
for (let i = 0; i < 20_000; i++) host.receive(request, 0, request.length, performance.now()); // JIT warm-up

const count = Number(values.count);
console.log(`ICMP echo through Host.receive, µs per request (${count} each), after an idle gap:`);
for (const mode of ['spin', 'sleep'] as const) {
  for (const gapMs of [0, 1, 3, 10]) {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      if (mode === 'sleep' && gapMs > 0) await sleep(gapMs);
      else for (const until = performance.now() + gapMs; performance.now() < until;);
      const t = performance.now();
      host.receive(request, 0, request.length, t);
      times.push((performance.now() - t) * 1000);
    }
    console.log(`  ${mode.padEnd(5)} gap ${String(gapMs).padStart(2)} ms: p50 ${percentile(times, 50).toFixed(1).padStart(5)}  p90 ${percentile(times, 90).toFixed(1).padStart(5)}`);
  }
}
if (counters[C.icmp_echo_replies_tx] !== sink.frames - 1) throw new Error('the core did not answer every request');
