/**
 * TCP echo service (RFC 862): every byte received on a connection to port 7 is sent back.
 * Built with pipe(), so back-pressure holds end to end: when the peer stops reading our
 * echoes, we stop reading its data and its window closes. The peer's FIN ends our side
 * after the last echo.
 */
import type { StackApi, StackApp } from '../socket/stack-api.js';
import { connectionErrorLogger } from './connection-errors.js';

/** The well-known echo port. */
export const TCP_ECHO_PORT = 7;

/** Makes the echo service as a StackApp listening on `port`. */
export function tcpEchoService(port = TCP_ECHO_PORT): StackApp {
  return (api: StackApi) => {
    const logError = connectionErrorLogger(api, 'echo');
    const server = api.net.createServer(undefined, (s) => {
      s.on('error', logError);
      s.pipe(s);
    });
    server.on('error', (e) => api.log.error({ err: e.message, port }, 'echo: cannot listen'));
    server.listen(port);
  };
}
