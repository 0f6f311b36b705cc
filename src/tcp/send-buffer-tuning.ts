/**
 * Send-buffer autotuning, after Linux's tcp_sndbuf_expand() and tcp_should_expand_sndbuf()
 * (net/ipv4/tcp_input.c): a connection's send buffer grows towards twice its congestion
 * window, up to a limit (TcpConfig.sendBufferMax, 4 MiB as Linux's tcp_wmem[2]), so
 * that a fast path is not held back by a buffer smaller than what the window lets fly,
 * while a slow one keeps the default.
 *
 * It grows on an ACK that comes while the application waits for room in the buffer (Linux
 * tcp_check_space: SOCK_NOSPACE), and only when what the buffer holds after it (in flight
 * and unsent) is below cwnd: Linux sends what it holds first (tcp_data_snd_check) and then
 * compares the bytes in flight with cwnd. The sender is then held back by the buffer, not
 * by the window. It never shrinks: Linux shrinks only under global memory pressure, which has no
 * counterpart here. Only the bound grows: the buffer holds memory for the bytes queued
 * (tcp/send-buffer.ts), and none once everything is acknowledged.
 *
 * Measured (decision 0048): on the lab's 2 vCPUs a bulk download kept its 1 MiB send
 * buffer full, all of it in flight, with cwnd at 3 MB and the peer's window at 13 MB.
 */

/**
 * The send buffer's new capacity on such an ACK: at least `capacity`, at most `max`,
 * towards 2 × `cwnd` when `held` (the bytes in the buffer) < `cwnd` (bytes throughout).
 */
export function expandedSendBuffer(capacity: number, cwnd: number, held: number, max: number): number {
  if (capacity >= max || held >= cwnd) return capacity;
  const want = 2 * Math.floor(cwnd); // whole bytes: a fractional capacity shifted the bytes written after it
  if (want <= capacity) return capacity;
  return want < max ? want : max;
}
