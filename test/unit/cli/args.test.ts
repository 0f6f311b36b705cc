/**
 * The stackd command line (src/cli/args.ts): defaults, every flag, and one-line usage
 * errors that name the flag (the CLI prints them and exits 2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP, KNOWN_SERVICES, STACKD_OPTIONS, UsageError, defaultMac, parseStackdArgs } from '../../../src/cli/args.js';
import { parseIpv4, parseMac } from '../../../src/wire/addresses.js';
import { DEFAULT_IPV6_INTERNED } from '../../../src/iface/host.js';
import { formatIpv6, parseIpv6 } from '../../../src/wire/ipv6-address.js';

const dir = mkdtempSync(join(tmpdir(), 'stackd-args-'));
const APP = join(dir, 'app.mjs');
writeFileSync(APP, 'export default () => {};\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The UsageError message parseStackdArgs throws for argv (fails if it does not throw one). */
function usage(argv: string[]): string {
  try {
    parseStackdArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

describe('parseStackdArgs defaults', () => {
  it('no arguments: 4 workers, tap0, 10.10.0.4/24, no gateway, MTU 1500, /run/stackd/tap0.sock, every service, newreno, offload on, info', () => {
    const o = parseStackdArgs([]);
    expect(o).toEqual({
      workers: 4, threads: 0, tap: 'tap0', ip: parseIpv4('10.10.0.4'), prefixLength: 24, gateway: 0, routes: [], ipv6: { addresses: [], gateway: null },
      mac: defaultMac('tap0', parseIpv4('10.10.0.4')), mtu: 1500, control: '/run/stackd/tap0.sock',
      logLevel: 'info', services: ['echo', 'discard', 'chargen', 'http', 'udp-echo'], apps: [],
      congestionControl: 'newreno', ecn: 'accept', recovery: 'rack', maxConnections: 262_144, maxTimeWait: 131_072, maxIpv6Peers: 16_384, traceSlots: 1024, busyPollUs: 0, vnetHdr: true, batchHelpers: true, cpuAffinity: 'workers', pcap: null, fault: null,
      appPool: { threads: 1, maxQueue: 256 }, help: false, version: false,
    });
    expect(o.services).toEqual([...KNOWN_SERVICES]);
  });

  it('the default control socket follows --tap', () => {
    expect(parseStackdArgs(['--tap', 'tap7']).control).toBe('/run/stackd/tap7.sock');
  });
});

describe('parseStackdArgs: every flag', () => {
  it('--workers N (1..64, bounds included)', () => {
    expect(parseStackdArgs(['--workers', '1']).workers).toBe(1);
    expect(parseStackdArgs(['--workers=64']).workers).toBe(64);
  });

  it('--tap NAME (up to 15 characters)', () => {
    expect(parseStackdArgs(['--tap', 'stackd-tap_0.a']).tap).toBe('stackd-tap_0.a');
    expect(parseStackdArgs(['--tap', 'a23456789012345']).tap).toBe('a23456789012345');
  });

  it('--ip ADDR/PREFIX, and ADDR alone means /24', () => {
    expect(parseStackdArgs(['--ip', '192.168.7.9/16'])).toMatchObject({ ip: parseIpv4('192.168.7.9'), prefixLength: 16 });
    expect(parseStackdArgs(['--ip', '172.16.0.2'])).toMatchObject({ ip: parseIpv4('172.16.0.2'), prefixLength: 24 });
    expect(parseStackdArgs(['--ip', '10.0.0.1/30']).prefixLength).toBe(30);
    expect(parseStackdArgs(['--ip', '10.0.0.1/1']).prefixLength).toBe(1);
  });

  it('--gateway ADDR', () => {
    expect(parseStackdArgs(['--gateway', '10.10.0.1']).gateway).toBe(parseIpv4('10.10.0.1'));
  });

  it("--route 'DEST/PREFIX via GW' (repeatable; 'via' as one quoted value or as separate words, --route=… too)", () => {
    const o = parseStackdArgs([
      '--route', '10.20.0.0/24 via 10.10.0.254', '--workers', '2', '--route', '10.30.0.0/16', 'via', '10.10.0.253',
      '--route=0.0.0.0/0 via 10.10.0.1',
    ]);
    expect(o.routes).toEqual([
      { dest: parseIpv4('10.20.0.0'), prefixLength: 24, gateway: parseIpv4('10.10.0.254') },
      { dest: parseIpv4('10.30.0.0'), prefixLength: 16, gateway: parseIpv4('10.10.0.253') },
      { dest: 0, prefixLength: 0, gateway: parseIpv4('10.10.0.1') },
    ]);
    expect(o.workers).toBe(2);
    const many = Array.from({ length: 65 }, (_, i) => ['--route', `10.${100 + (i >> 4)}.${i & 15}.0/24 via 10.10.0.1`]).flat();
    expect(parseStackdArgs(many.slice(0, 128)).routes).toHaveLength(64);
    expect(() => parseStackdArgs(many)).toThrow('--route: 65 routes, at most 64');
  });

  it('--mac MAC (colons or dashes); the default MAC follows --tap and --ip', () => {
    expect(parseStackdArgs(['--mac', '02:00:00:00:00:04']).mac).toBe(0x020000000004);
    expect(parseStackdArgs(['--mac', '02-AB-cd-00-00-05']).mac).toBe(parseMac('02:ab:cd:00:00:05'));
    expect(parseStackdArgs(['--tap', 'tap1', '--ip', '10.1.0.4/24']).mac).toBe(defaultMac('tap1', parseIpv4('10.1.0.4')));
  });

  it('--mtu BYTES (576..9000, bounds included)', () => {
    expect(parseStackdArgs(['--mtu', '576']).mtu).toBe(576);
    expect(parseStackdArgs(['--mtu', '9000']).mtu).toBe(9000);
  });

  it('--control: a socket path (kept as given) or host:port', () => {
    expect(parseStackdArgs(['--control', './ctl.sock']).control).toBe('./ctl.sock');
    expect(parseStackdArgs(['--control', '127.0.0.1:9100']).control).toBe('127.0.0.1:9100');
    expect(parseStackdArgs(['--control', 'localhost:9100']).control).toBe('localhost:9100');
    expect(parseStackdArgs(['--control', '[::1]:9100']).control).toBe('[::1]:9100');
  });

  it('--services LIST (comma-separated, spaces trimmed) and none', () => {
    expect(parseStackdArgs(['--services', 'echo, http']).services).toEqual(['echo', 'http']);
    expect(parseStackdArgs(['--services', 'udp-echo']).services).toEqual(['udp-echo']);
    expect(parseStackdArgs(['--services', 'none']).services).toEqual([]);
  });

  it('--app PATH, repeatable, resolved to absolute paths', () => {
    expect(parseStackdArgs(['--app', APP, '--app', APP]).apps).toEqual([APP, APP]);
    // Relative to the working directory (vitest runs in the repository root).
    expect(parseStackdArgs(['--app', 'package.json']).apps).toEqual([resolve('package.json')]);
  });

  it('--max-connections and --max-time-wait: whole numbers in range (0 TIME_WAIT records allowed)', () => {
    expect(parseStackdArgs(['--max-connections', '100000', '--max-time-wait', '0'])).toMatchObject({ maxConnections: 100_000, maxTimeWait: 0 });
    expect(parseStackdArgs(['--trace-slots', '0']).traceSlots).toBe(0);
    expect(() => parseStackdArgs(['--trace-slots', '-1'])).toThrow(/^--trace-slots: /);
    expect(() => parseStackdArgs(['--max-connections', '8'])).toThrow(/--max-connections/);
    expect(() => parseStackdArgs(['--max-time-wait', '-1'])).toThrow(/--max-time-wait/);
  });

  it('--batch-helpers by default; --no-batch-helpers turns it off; of the two the last one wins', () => {
    expect(parseStackdArgs([]).batchHelpers).toBe(true);
    expect(parseStackdArgs(['--no-batch-helpers']).batchHelpers).toBe(false);
    expect(parseStackdArgs(['--no-batch-helpers', '--batch-helpers']).batchHelpers).toBe(true);
    expect(parseStackdArgs(['--batch-helpers', '--no-batch-helpers']).batchHelpers).toBe(false);
    // The pair does not touch --offload's.
    expect(parseStackdArgs(['--no-batch-helpers', '--no-offload'])).toMatchObject({ batchHelpers: false, vnetHdr: false });
    expect(parseStackdArgs(['--no-batch-helpers']).vnetHdr).toBe(true);
  });

  it('--cpu-affinity: workers (the default), all or off; anything else is a usage error', () => {
    expect(parseStackdArgs([]).cpuAffinity).toBe('workers');
    for (const m of ['workers', 'all', 'off'] as const) expect(parseStackdArgs(['--cpu-affinity', m]).cpuAffinity).toBe(m);
    expect(() => parseStackdArgs(['--cpu-affinity', 'auto'])).toThrow(/--cpu-affinity: 'auto' is not one of workers\|all\|off/);
  });

  it('--busy-poll: microseconds, 0 (the default: sleep at once) up to one second', () => {
    expect(parseStackdArgs([]).busyPollUs).toBe(0);
    expect(parseStackdArgs(['--busy-poll', '20000']).busyPollUs).toBe(20_000);
    expect(() => parseStackdArgs(['--busy-poll', '1000001'])).toThrow(/^--busy-poll: /);
    expect(() => parseStackdArgs(['--busy-poll', '5ms'])).toThrow(/^--busy-poll: /);
  });

  it('--max-ipv6-peers: the bound of each worker\'s interned IPv6 addresses, 16..1048576, 16384 by default', () => {
    expect(parseStackdArgs([]).maxIpv6Peers).toBe(DEFAULT_IPV6_INTERNED);
    expect(DEFAULT_IPV6_INTERNED).toBe(16_384);
    expect(parseStackdArgs(['--max-ipv6-peers', '64']).maxIpv6Peers).toBe(64);
    expect(parseStackdArgs(['--max-ipv6-peers', '1048576']).maxIpv6Peers).toBe(1 << 20);
    for (const bad of ['8', '1048577', '1.5', 'many']) expect(() => parseStackdArgs(['--max-ipv6-peers', bad])).toThrow(/^--max-ipv6-peers: /);
    expect(HELP).toMatch(/--max-ipv6-peers N .*\n.*\n.*\(16\.\.1048576\) \[default: 16384\]/);
  });

  it('--cc newreno|cubic|bbr', () => {
    expect(parseStackdArgs(['--cc', 'cubic']).congestionControl).toBe('cubic');
    expect(parseStackdArgs(['--cc', 'newreno']).congestionControl).toBe('newreno');
    expect(parseStackdArgs(['--cc', 'bbr']).congestionControl).toBe('bbr');
  });

  it('--ecn accept|on|off (default accept, as Linux tcp_ecn=2); anything else is a usage error', () => {
    expect(parseStackdArgs([]).ecn).toBe('accept');
    expect(parseStackdArgs(['--ecn', 'on']).ecn).toBe('on');
    expect(parseStackdArgs(['--ecn', 'off']).ecn).toBe('off');
    expect(parseStackdArgs(['--ecn', 'accept']).ecn).toBe('accept');
    expect(() => parseStackdArgs(['--ecn', 'yes'])).toThrow(/--ecn: 'yes' is not one of accept\|on\|off/);
  });

  it('--recovery rack|rfc6675 (default rack, as on Linux: decision 0034); anything else is a usage error', () => {
    expect(parseStackdArgs([]).recovery).toBe('rack');
    expect(parseStackdArgs(['--recovery', 'rfc6675']).recovery).toBe('rfc6675');
    expect(parseStackdArgs(['--recovery', 'rack']).recovery).toBe('rack');
    expect(() => parseStackdArgs(['--recovery', 'newreno'])).toThrow(/--recovery: 'newreno' is not one of rack\|rfc6675/);
  });

  it('--no-offload turns offload off, --offload on; the last one wins', () => {
    expect(parseStackdArgs(['--no-offload']).vnetHdr).toBe(false);
    expect(parseStackdArgs(['--offload']).vnetHdr).toBe(true);
    expect(parseStackdArgs(['--offload', '--no-offload']).vnetHdr).toBe(false);
    expect(parseStackdArgs(['--no-offload', '--offload']).vnetHdr).toBe(true);
  });

  it('--log-level: every pino level and silent', () => {
    for (const l of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      expect(parseStackdArgs(['--log-level', l]).logLevel).toBe(l);
    }
  });

  it('--pcap FILE (resolved), --pcap-snaplen N (64..262144, default 262144), --pcap-max-mb M', () => {
    expect(parseStackdArgs(['--pcap', 'cap.pcap']).pcap).toEqual({ file: resolve('cap.pcap'), snaplen: 262144, maxMb: null });
    expect(parseStackdArgs(['--pcap', '/tmp/c.pcap', '--pcap-snaplen', '64', '--pcap-max-mb', '10']).pcap).toEqual({
      file: '/tmp/c.pcap', snaplen: 64, maxMb: 10,
    });
    expect(parseStackdArgs(['--pcap', '/tmp/c.pcap', '--pcap-max-mb', '10', '--pcap-max-files', '3']).pcap).toEqual({
      file: '/tmp/c.pcap', snaplen: 262144, maxMb: 10, maxFiles: 3,
    });
  });

  it('--fault SPEC (phy/fault-spec.ts)', () => {
    const f = parseStackdArgs(['--fault', 'drop=5%,tx.delay=20ms,seed=7']).fault;
    expect(f).toMatchObject({ seed: 7, rx: { drop: 0.05, delayMs: 0 }, tx: { drop: 0.05, delayMs: 20 } });
  });

  it('--app-threads N (1..64), --app-queue N (0..100000): the api.offload pool', () => {
    expect(parseStackdArgs(['--app-threads', '2', '--app-queue', '0']).appPool).toEqual({ threads: 2, maxQueue: 0 });
    expect(parseStackdArgs(['--app-threads', '64', '--app-queue', '100000']).appPool).toEqual({ threads: 64, maxQueue: 100000 });
  });

  it('-h/--help and -V/--version', () => {
    expect(parseStackdArgs(['-h']).help).toBe(true);
    expect(parseStackdArgs(['--help']).help).toBe(true);
    expect(parseStackdArgs(['-V']).version).toBe(true);
    expect(parseStackdArgs(['--version']).version).toBe(true);
  });
});

describe('parseStackdArgs: a bad value is one line naming the flag', () => {
  const cases: Array<[string[], string]> = [
    [['--workers', '0'], '--workers: 0 is out of range (1..64)'],
    [['--app-threads', '0'], '--app-threads: 0 is out of range (1..64)'],
    [['--app-queue', '100001'], '--app-queue: 100001 is out of range (0..100000)'],
    [['--workers', '65'], '--workers: 65 is out of range (1..64)'],
    [['--threads', '3', '--workers', '2'], '--threads: 3 is out of range (1..2)'],
    [['--threads', '0'], '--threads: 0 is out of range (1..4)'],
    [['--workers', 'four'], "--workers: expected a whole number, got 'four'"],
    [['--workers', '2.5'], "--workers: expected a whole number, got '2.5'"],
    [['--workers'], '--workers: needs a value'],
    [['--workers', '-1'], "--workers: its value starts with '-' (write --workers=VALUE)"],
    [['--tap', 'a234567890123456'], "--tap: 'a234567890123456' is not a valid interface name (1..15 of A-Z a-z 0-9 _ . -)"],
    [['--tap', 'tap/0'], "--tap: 'tap/0' is not a valid interface name (1..15 of A-Z a-z 0-9 _ . -)"],
    [['--ip', '10.10.0.256/24'], "--ip: '10.10.0.256/24' is not an IPv4 address with an optional /prefix"],
    [['--ip', 'stackd'], "--ip: 'stackd' is not an IPv4 address with an optional /prefix"],
    [['--ip', '10.0.0.1/31'], '--ip: prefix /31 is out of range (1..30)'],
    [['--ip', '10.0.0.1/0'], '--ip: prefix /0 is out of range (1..30)'],
    [['--gateway', '10.10.0'], "--gateway: '10.10.0' is not an IPv4 address"],
    [['--route', '10.20.0.0/24'], "--route: '10.20.0.0/24' is not DEST/PREFIX via GATEWAY (like 10.20.0.0/24 via 10.10.0.254)"],
    [['--route', '10.20.0.0/33 via 10.10.0.1'], "--route: '10.20.0.0/33 via 10.10.0.1' is not DEST/PREFIX via GATEWAY (like 10.20.0.0/24 via 10.10.0.254)"],
    [['--route', '10.20.0.1/24 via 10.10.0.1'], '--route: 10.20.0.1/24 has host bits set (the network is 10.20.0.0/24)'],
    [['--route', '10.20.0.0/24 via 10.11.0.1'], '--route: gateway 10.11.0.1 is not a neighbour on our subnet 10.10.0.0/24'],
    [['--route', '10.20.0.0/24 via 10.10.0.4'], '--route: gateway 10.10.0.4 is not a neighbour on our subnet 10.10.0.0/24'],
    [['--route', '0.0.0.0/0 via 10.10.0.2', '--gateway', '10.10.0.1'], '--route: 0.0.0.0/0 and --gateway both give the default route (give one)'],
    [['--route', '10.20.0.0/24 via 10.10.0.2', '--route', '10.20.0.0/24 via 10.10.0.3'], '--route: 10.20.0.0/24 given twice'],
    [['--mac', '02:00:00:00:04'], "--mac: '02:00:00:00:04' is not a MAC address (like 02:00:00:00:00:04)"],
    [['--mac', '02:00:00:00:00:0g'], "--mac: '02:00:00:00:00:0g' is not a MAC address (like 02:00:00:00:00:04)"],
    [['--mac', '01:00:5e:00:00:01'], '--mac: 01:00:5e:00:00:01 is a multicast address'],
    [['--mac', 'ff:ff:ff:ff:ff:ff'], '--mac: ff:ff:ff:ff:ff:ff is a multicast address'],
    [['--mac', '00:00:00:00:00:00'], '--mac: 00:00:00:00:00:00 is not a usable address'],
    [['--mtu', '575'], '--mtu: 575 is out of range (576..9000)'],
    [['--mtu', '9001'], '--mtu: 9001 is out of range (576..9000)'],
    [['--control', 'stackd.sock'], "--control: 'stackd.sock' is neither a socket path (with a '/') nor host:port"],
    [['--control', 'host:port'], "--control: 'host:port' is neither a socket path (with a '/') nor host:port"],
    [['--log-level', 'verbose'], "--log-level: 'verbose' is not one of fatal|error|warn|info|debug|trace|silent"],
    [['--services', 'echo,ftp'], "--services: unknown service 'ftp' (known: echo, discard, chargen, http, udp-echo)"],
    [['--services', ','], "--services: empty list (use 'none' for no services)"],
    [['--cc', 'vegas'], "--cc: 'vegas' is not one of newreno|cubic|bbr"],
    [['--pcap-snaplen', '100'], '--pcap-snaplen: only with --pcap FILE (at run time: stackctl pcap start)'],
    [['--pcap-max-mb', '1'], '--pcap-max-mb: only with --pcap FILE (at run time: stackctl pcap start)'],
    [['--pcap', ''], '--pcap: needs a file name'],
    [['--pcap', 'x', '--pcap-snaplen', '63'], '--pcap-snaplen: 63 is out of range (64..262144)'],
    [['--pcap', 'x', '--pcap-max-mb', '0'], '--pcap-max-mb: 0 is out of range (1..1000000)'],
    [['--pcap', 'x', '--pcap-max-files', '3'], '--pcap-max-files: only with --pcap-max-mb (files rotate by size)'],
    [['--pcap', 'x', '--pcap-max-mb', '1', '--pcap-max-files', '0'], '--pcap-max-files: 0 is out of range (1..100000)'],
    [['--pcap-max-files', '3'], '--pcap-max-files: only with --pcap FILE (at run time: stackctl pcap start)'],
    [['--fault', 'drop=5'], "--fault: 'drop': expected a percentage like 5% or 0.5%, got '5'"],
    [['--fault', 'loss=1%'], "--fault: 'loss': unknown key (keys: drop, corrupt, duplicate, reorder, delay, rate, seed, with rx. or tx. for one direction)"],
    [['--bogus'], '--bogus: unknown option (stackd --help lists them)'],
    [['-x'], '-x: unknown option (stackd --help lists them)'],
    [['--help=yes'], '--help: takes no value'],
    [['tap0'], "'tap0': unexpected argument (stackd takes only --options)"],
  ];
  for (const [argv, msg] of cases) {
    it(`${argv.join(' ')} → ${msg}`, () => {
      expect(usage(argv)).toBe(msg);
    });
  }

  it('--app with a missing file (or a directory) names the resolved path', () => {
    const missing = join(dir, 'nope.mjs');
    expect(usage(['--app', missing])).toBe(`--app: no such file '${missing}'`);
    expect(usage(['--app', dir])).toBe(`--app: no such file '${dir}'`);
  });

  it('every message is a single line that starts with the flag or the argument', () => {
    for (const [argv] of cases) {
      const m = usage(argv);
      expect(m).not.toContain('\n');
      expect(m.startsWith(argv[0].split('=')[0]) || m.startsWith(`'${argv[0]}'`)).toBe(true);
    }
  });
});

describe('defaultMac', () => {
  it('is stable: the same TAP and address give the same MAC', () => {
    expect(defaultMac('tap0', parseIpv4('10.10.0.4'))).toBe(defaultMac('tap0', parseIpv4('10.10.0.4')));
  });

  it('differs for another TAP or another address', () => {
    const a = defaultMac('tap0', parseIpv4('10.10.0.4'));
    expect(defaultMac('tap1', parseIpv4('10.10.0.4'))).not.toBe(a);
    expect(defaultMac('tap0', parseIpv4('10.10.0.5'))).not.toBe(a);
  });

  it('is unicast and locally administered (first octet 0x02: I/G bit 0, U/L bit 1) and 48 bits', () => {
    for (const [tap, ip] of [['tap0', '10.10.0.4'], ['tap1', '192.168.1.1'], ['x', '1.2.3.4'], ['stackd-tap_0.a', '255.255.255.254']] as const) {
      const mac = defaultMac(tap, parseIpv4(ip));
      expect(Number.isInteger(mac)).toBe(true);
      expect(mac).toBeGreaterThanOrEqual(0);
      expect(mac).toBeLessThan(2 ** 48);
      expect(Math.floor(mac / 2 ** 40)).toBe(0x02);
    }
  });
});

describe('--ip6 and --gateway6', () => {
  it('takes addresses with a prefix (default /64), repeatable, in order, and a gateway inside one of them', () => {
    const o = parseStackdArgs(['--ip6', 'fd00:10:10::4/64', '--ip6', '2001:db8::1', '--gateway6', 'fd00:10:10::1']);
    expect(o.ipv6.addresses.map((a) => [formatIpv6(a.address), a.prefixLength])).toEqual([['fd00:10:10::4', 64], ['2001:db8::1', 64]]);
    expect(o.ipv6.gateway === null ? null : formatIpv6(o.ipv6.gateway)).toBe('fd00:10:10::1');
    expect(parseStackdArgs(['--gateway6', 'fe80::1']).ipv6.gateway).toEqual(parseIpv6('fe80::1'));
  });

  it.each([
    [['--ip6', 'fd00::4/129'], '--ip6: prefix /129 is out of range (1..128)'],
    [['--ip6', '10.10.0.4'], "--ip6: '10.10.0.4' is not an IPv6 address with an optional /prefix"],
    [['--ip6', 'ff02::1'], '--ip6: ff02::1 is not a unicast address'],
    [['--ip6', '::'], '--ip6: :: is not a unicast address'],
    [['--ip6', 'fd00::4', '--ip6', 'fd00:0::4/48'], '--ip6: fd00::4 is given twice'],
    [['--gateway6', 'nope'], "--gateway6: 'nope' is not a unicast IPv6 address"],
    [['--gateway6', '2001:db8::1'], '--gateway6: 2001:db8::1 is neither link-local nor inside an --ip6 prefix'],
    [['--ip6', 'fd00::4', '--mtu', '1279'], '--ip6: IPv6 needs an MTU of 1280 or more (RFC 8200 5), --mtu is 1279'],
  ])('%j → %s', (argv, message) => {
    expect(usage(argv)).toBe(message);
  });
});

describe('HELP', () => {
  it('lists every option parseStackdArgs accepts, and no other', () => {
    const listed = new Set([...HELP.matchAll(/^ {2}(?:-\w, )?--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]));
    expect([...listed].sort()).toEqual(Object.keys(STACKD_OPTIONS).sort());
  });
});
