/**
 * Discard service (RFC 863): reads and drops everything sent to port 9. Reading in
 * flowing mode consumes each chunk as it arrives, so the receive window stays open; the
 * peer's FIN ends the connection.
 */
import type { StackApi, StackApp } from '../socket/stack-api.js';
import { connectionErrorLogger } from './connection-errors.js';

/** The well-known discard port. */
export const DISCARD_PORT = 9;

/** Makes the discard service as a StackApp listening on `port`. */
export function discardService(port = DISCARD_PORT): StackApp {
  return (api: StackApi) => {
    const logError = connectionErrorLogger(api, 'discard');
    const server = api.net.createServer(undefined, (s) => {
      s.on('error', logError);
      s.resume();
    });
    server.on('error', (e) => api.log.error({ err: e.message, port }, 'discard: cannot listen'));
    server.listen(port);
  };
}
