/**
 * The states of a TCP connection, RFC 9293 3.3.2 (LISTEN is a listener, not a connection:
 * ./tcp-layer.ts).
 */

/** RFC 9293 states. */
export const enum State {
  CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT,
}

/** State names for /connections and the socket API. */
export const STATE_NAMES = [
  'CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
] as const;
