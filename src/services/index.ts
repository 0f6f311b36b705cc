/**
 * The built-in services by name (for `--services`) and the loader of user applications
 * (`stackd --app ./my-app.js`). Each service is a StackApp: it is started in every worker
 * with that worker's StackApi.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StackApi, StackApp } from '../socket/stack-api.js';
import { chargenService } from './chargen.js';
import { discardService } from './discard.js';
import { httpService } from './http.js';
import { tcpEchoService } from './tcp-echo.js';
import { ECHO_PORT } from './udp-echo.js';

/**
 * UDP echo (RFC 862) on port 7 through the dgram API: every datagram goes back to its
 * sender from port 7, over IPv4 and IPv6. (src/services/udp-echo.ts is the zero-copy variant on the Host.)
 */
export function udpEchoService(port = ECHO_PORT): StackApp {
  return (api: StackApi) => {
    const s = api.dgram.createSocket('udp6'); // dual-stack: IPv4 and IPv6 peers
    s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.on('error', (e) => api.log.warn({ err: e.message, port }, 'udp-echo error'));
    s.bind(port);
  };
}

/** Built-in services by name. */
export const BUILTIN_SERVICES: Record<string, StackApp> = {
  'udp-echo': udpEchoService(),
  echo: tcpEchoService(),
  discard: discardService(),
  chargen: chargenService(),
  http: httpService(),
};

/** The built-in service called `name`, or undefined when there is none by that name. */
export function builtinService(name: string): StackApp | undefined {
  return Object.hasOwn(BUILTIN_SERVICES, name) ? BUILTIN_SERVICES[name] : undefined;
}

/**
 * Imports a user application module (path relative to the current directory, or a
 * file: URL) and returns its default export, which must be a function `(api) => …`.
 */
export async function loadAppModule(path: string): Promise<StackApp> {
  const url = path.startsWith('file:') ? path : pathToFileURL(resolve(path)).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new Error(`cannot load application '${path}': ${(e as Error).message}`, { cause: e });
  }
  const app = mod.default;
  if (typeof app !== 'function') {
    throw new Error(
      `application '${path}' must have a default export that is a function (api) => void, ` +
        `but its default export is ${app === undefined ? 'missing' : typeof app}`,
    );
  }
  return app as StackApp;
}
