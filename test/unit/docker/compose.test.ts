/**
 * docker-compose.yml checked against the namespace lab (lab/lab.sh), the image and the CLI,
 * without Docker: parsed with `yaml`, variables interpolated as compose does
 * (`${VAR:-default}`), the stack's command fed to stackd's own argument parser, and every
 * file the compose file names looked up in the repository.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseStackdArgs } from '../../../src/cli/args.js';
import { parseLoadArgs } from '../../../load/options.js';
import { formatIpv4 } from '../../../src/wire/addresses.js';
import { formatIpv6 } from '../../../src/wire/ipv6-address.js';
import { LAB_ADDR } from '../../helpers/lab.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string): string => readFileSync(ROOT + p, 'utf8');

type Env = Record<string, string | undefined>;
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Compose interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR. */
function interpolate(v: Json, env: Env): Json {
  if (typeof v === 'string') {
    return v.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name?: string, op?: string, def?: string, bare?: string) => {
      if (m === '$$') return '$';
      const key = (name ?? bare)!;
      const val = env[key];
      if (op === ':-') return val === undefined || val === '' ? def! : val;
      if (op === '-') return val === undefined ? def! : val;
      return val ?? '';
    });
  }
  if (Array.isArray(v)) return v.map((x) => interpolate(x, env));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, env)]));
  }
  return v;
}

interface Service {
  build?: { context: string; dockerfile: string; target?: string };
  image?: string;
  cap_add?: string[];
  devices?: string[];
  sysctls?: Record<string, string>;
  environment?: Record<string, string>;
  command?: string[];
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { ipv4_address: string; ipv6_address: string }>;
}
interface Compose {
  name: string;
  networks: Record<string, { driver: string; enable_ipv6?: boolean; ipam: { config: { subnet: string; gateway: string }[] } }>;
  services: Record<string, Service>;
}

function compose(env: Env = {}): Compose {
  return interpolate(parse(read('docker-compose.yml')) as Json, env) as unknown as Compose;
}

/** lab/lab.sh's address plan, read from the script itself (readonly NAME=value lines). */
function labPlan(): { subnet: string; gateway: string; stack: string; subnet6: string; stack6: string } {
  const sh = read('lab/lab.sh');
  const get = (name: string): string => {
    const m = new RegExp(`^readonly ${name}=([^\\s#]+)`, 'm').exec(sh);
    if (!m) throw new Error(`lab.sh defines no ${name}`);
    return m[1];
  };
  return {
    subnet: `${get('SUBNET_PREFIX')}.0/${get('PREFIX_LEN')}`,
    gateway: get('HOST_IP'),
    stack: get('STACK_IP'),
    subnet6: `${get('SUBNET6_PREFIX')}:/${get('PREFIX6_LEN')}`,
    stack6: get('STACK_IP6'),
  };
}

function inSubnet(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/') as [string, string];
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  return Math.floor(n(ip) / size) === Math.floor(n(net) / size);
}

describe('docker-compose.yml', () => {
  const c = compose();
  const lab = labPlan();

  it('has the lab network: bridge 10.10.0.0/24, gateway 10.10.0.1, and IPv6 fd00:10:10::/64, as lab/lab.sh plans it', () => {
    expect(Object.keys(c.networks)).toEqual(['lab']);
    const net = c.networks.lab;
    expect(net.driver).toBe('bridge');
    expect(net.enable_ipv6).toBe(true);
    expect(net.ipam.config).toHaveLength(2);
    expect(net.ipam.config[0]).toEqual({ subnet: lab.subnet, gateway: lab.gateway });
    expect(net.ipam.config[1]).toEqual({ subnet: lab.subnet6, gateway: 'fd00:10:10::1' });
    expect(lab).toEqual({ subnet: '10.10.0.0/24', gateway: LAB_ADDR.host, stack: LAB_ADDR.stack, subnet6: 'fd00:10:10::/64', stack6: 'fd00:10:10::4' });
  });

  it('puts stack at 10.10.0.4 and client at 10.10.0.3; every address unique, in the subnet, not the gateway', () => {
    expect(c.services.stack.networks).toEqual({ lab: { ipv4_address: lab.stack, ipv6_address: lab.stack6 } });
    expect(c.services.client.networks).toEqual({ lab: { ipv4_address: LAB_ADDR.c1, ipv6_address: 'fd00:10:10::3' } });
    const addrs6 = Object.values(c.services).map((s) => s.networks!.lab.ipv6_address);
    expect(new Set(addrs6).size).toBe(addrs6.length);
    for (const a of addrs6) expect(a.startsWith('fd00:10:10::') && a !== 'fd00:10:10::1', a).toBe(true);
    const addrs = Object.values(c.services).map((s) => s.networks!.lab.ipv4_address);
    expect(new Set(addrs).size).toBe(addrs.length);
    for (const a of addrs) {
      expect(inSubnet(a, lab.subnet), a).toBe(true);
      expect(a).not.toBe(lab.gateway);
    }
  });

  it("gives the stack NET_ADMIN and /dev/net/tun, and disables IPv6 in its namespace (stackd, not the container's kernel, owns its IPv6 address)", () => {
    const s = c.services.stack;
    expect(s.cap_add).toContain('NET_ADMIN');
    expect(s.devices).toContain('/dev/net/tun:/dev/net/tun');
    expect(s.sysctls).toMatchObject({ 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' });
    // The image is ours (Dockerfile at the root, its runtime stage); no service pulls a prebuilt image.
    expect(s.build).toEqual({ context: '.', dockerfile: 'Dockerfile', target: 'runtime' });
  });

  it('runs `stackd --workers 4 --tap tap0 --ip6 fd00:10:10::4/64` by default, a command stackd itself accepts', () => {
    const s = c.services.stack;
    expect(s.command).toEqual(['--workers', '4', '--tap', 'tap0', '--ip6', 'fd00:10:10::4/64']);
    expect(s.environment).toEqual({ STACKD_WORKERS: '4', STACKD_ARGS: '' });
    // What the entrypoint finally runs: --ip/--gateway from eth0 + the command.
    const o = parseStackdArgs(['--ip', `${lab.stack}/24`, '--gateway', lab.gateway, ...s.command!]);
    expect(o.workers).toBe(4);
    expect(o.tap).toBe('tap0');
    expect(formatIpv4(o.ip)).toBe(lab.stack);
    expect(o.prefixLength).toBe(24);
    expect(formatIpv4(o.gateway)).toBe(lab.gateway);
    expect(o.ipv6.addresses.map((a) => `${formatIpv6(a.address)}/${a.prefixLength}`)).toEqual([`${lab.stack6}/64`]);
  });

  it('takes the worker count and extra options from STACKD_WORKERS / STACKD_ARGS', () => {
    const s = compose({ STACKD_WORKERS: '2', STACKD_ARGS: '--log-level debug' }).services.stack;
    expect(s.command).toEqual(['--workers', '2', '--tap', 'tap0', '--ip6', 'fd00:10:10::4/64']);
    expect(s.environment).toEqual({ STACKD_WORKERS: '2', STACKD_ARGS: '--log-level debug' });
    const o = parseStackdArgs([...s.command!, ...s.environment!.STACKD_ARGS.split(' ')]);
    expect(o.workers).toBe(2);
    expect(o.logLevel).toBe('debug');
    // An empty variable falls back to the default, as ${VAR:-default} does in compose.
    expect(compose({ STACKD_WORKERS: '' }).services.stack.command).toEqual(['--workers', '4', '--tap', 'tap0', '--ip6', 'fd00:10:10::4/64']);
  });

  it('publishes stackd:80 on the host loopback only (8080 by default)', () => {
    expect(c.services.stack.ports).toEqual(['127.0.0.1:8080:80']);
    expect(compose({ STACKD_HTTP_PORT: '9080' }).services.stack.ports).toEqual(['127.0.0.1:9080:80']);
  });

  it('builds the client from docker/client.Dockerfile and keeps it running', () => {
    const s = c.services.client;
    expect(s.build).toEqual({ context: '.', dockerfile: 'docker/client.Dockerfile' });
    expect(s.command).toEqual(['sleep', 'infinity']);
    expect(s.profiles).toBeUndefined();
  });

  it('has a load service only in the "load" profile, bounded, started once the stack is healthy', () => {
    const s = c.services.load;
    expect(s.profiles).toEqual(['load']);
    // The Dockerfile's "load" stage: Node, the built stackd-load, nc, curl and ping.
    expect(s.build).toEqual({ context: '.', dockerfile: 'Dockerfile', target: 'load' });
    expect(s.image).toBe('stackd-load:dev');
    expect(read('Dockerfile')).toMatch(/^FROM \S+ AS load$/m);
    // The command is docker/load.sh as that stage installs it.
    expect(s.command).toEqual(['/app/docker/load.sh']);
    expect(read('Dockerfile')).toMatch(/^COPY --chmod=0?755 docker\/load\.sh \.\/docker\/load\.sh$/m);
    expect(s.depends_on).toEqual({ stack: { condition: 'service_healthy' } });
    const e = s.environment!;
    expect(e.LOAD_TARGET).toBe(lab.stack);
    // Within docker/load.sh's limits (it refuses anything else).
    const load = read('docker/load.sh');
    for (const [k, max] of [
      ['LOAD_CLIENTS', 1024], ['LOAD_TOTAL', 1000000], ['LOAD_DURATION', 600], ['LOAD_PINGS', 10000], ['LOAD_DATAGRAMS', 10000],
    ] as const) {
      const v = Number(e[k]);
      expect(Number.isInteger(v) && v >= 1 && v <= max, `${k}=${e[k]}`).toBe(true);
      expect(load).toMatch(new RegExp(`int_in ${k} "\\$[A-Z_]+" \\d+ ${max}\\b`));
    }
    // The mix and mode are ones stackd-load accepts.
    expect(parseLoadArgs(['--mix', e.LOAD_MIX, '--mode', e.LOAD_MODE], {}).mix.map((m) => m.kind)).toEqual(['nc-echo', 'curl-bytes', 'curl-post']);
    // load.sh runs the built tool (package.json's bin), found next to it as in the image (/app/docker, /app/dist).
    expect(load).toContain('$HERE/../dist/load/stackd-load.js');
    expect((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['stackd-load']).toBe('dist/load/stackd-load.js');
  });

  it('names only files that exist: Dockerfiles, and executable scripts behind them', () => {
    for (const s of Object.values(c.services)) {
      if (s.build) expect(statSync(ROOT + s.build.dockerfile).isFile(), s.build.dockerfile).toBe(true);
    }
    for (const f of ['docker/stack-entrypoint.sh', 'docker/load.sh']) {
      expect(statSync(ROOT + f).mode & 0o111, `${f} is executable`).not.toBe(0);
    }
  });
});
