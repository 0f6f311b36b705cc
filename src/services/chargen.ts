/**
 * Character generator service (RFC 864, TCP): on a connection to port 19 we send lines of
 * 72 printable ASCII characters (codes 32..126), each line starting one character further
 * along the 95-character cycle, ended by CR LF — as fast as the socket drains: write()
 * returning false waits for 'drain'. Data received is read and dropped; the peer's FIN,
 * an error or close stops the generator.
 */
import type { StackApi, StackApp } from '../socket/stack-api.js';
import { connectionErrorLogger } from './connection-errors.js';
import type { TcpSocket } from '../socket/tcp-socket.js';

/** The well-known chargen port. */
export const CHARGEN_PORT = 19;

/** Characters per line (RFC 864's example), and bytes per line with CR LF. */
export const CHARGEN_LINE_CHARS = 72;
const LINE_BYTES = CHARGEN_LINE_CHARS + 2;
/** The printable ASCII cycle: 95 characters, so 95 lines repeat. */
const CYCLE = 95;

/**
 * One full period of the chargen stream: 95 lines (7030 bytes). The stream is this
 * period repeated, so every write hands out the same immutable buffer.
 */
export function chargenPeriod(): Buffer {
  const b = Buffer.alloc(CYCLE * LINE_BYTES);
  for (let line = 0; line < CYCLE; line++) {
    const o = line * LINE_BYTES;
    for (let i = 0; i < CHARGEN_LINE_CHARS; i++) b[o + i] = 32 + ((line + i) % CYCLE);
    b[o + CHARGEN_LINE_CHARS] = 13;
    b[o + CHARGEN_LINE_CHARS + 1] = 10;
  }
  return b;
}

/** Writes the chargen stream to `s` until it closes, honouring back-pressure. */
export function runChargen(s: TcpSocket, period: Buffer): void {
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  const pump = (): void => {
    while (!stopped && s.writable) {
      if (!s.write(period)) {
        s.once('drain', pump);
        return;
      }
    }
  };
  s.on('end', stop);
  s.on('close', stop);
  s.on('error', stop);
  s.resume(); // input is discarded
  pump();
}

/** Makes the chargen service as a StackApp listening on `port`. */
export function chargenService(port = CHARGEN_PORT): StackApp {
  const period = chargenPeriod();
  return (api: StackApi) => {
    const logError = connectionErrorLogger(api, 'chargen');
    const server = api.net.createServer(undefined, (s) => {
      s.on('error', logError);
      runChargen(s, period);
    });
    server.on('error', (e) => api.log.error({ err: e.message, port }, 'chargen: cannot listen'));
    server.listen(port);
  };
}
