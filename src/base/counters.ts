/**
 * Per-thread counters in shared memory.
 *
 * Every thread (the I/O thread and each shard worker) owns one block of
 * float64 counters in a SharedArrayBuffer and is its only writer; the main thread
 * reads all blocks for /stats and /metrics with no RPC. Counter names starting with
 * `drop_` are drops by reason; the control plane lists them as such.
 *
 * The schema is one list shared by all threads so that indices agree everywhere.
 */

/**
 * All counter names, grouped by layer. The names are the API of /stats and /metrics: a
 * name is never renamed or removed, but a new one may go anywhere in its group, since the
 * indices (C) come from this list in one build and are never stored or sent.
 */
export const COUNTER_NAMES = [
  // Data plane (I/O thread)
  'tap_rx_frames', 'tap_rx_bytes', 'tap_tx_frames', 'tap_tx_bytes',
  'tap_read_batches', 'tap_write_batches', 'io_sleeps', 'io_busy_polls',
  // Times the I/O thread left or returned to busy worker threads' CPUs (dataplane/io-thread-placement.ts)
  'io_cpu_moves',
  'drop_rx_ring_full', 'drop_tap_write_error', 'drop_tap_read_error', 'drop_reinject_ring_full',
  'reinjected_datagrams',
  // Shard worker: frames in/out of the core
  'rx_frames', 'rx_bytes', 'tx_frames', 'tx_bytes', 'worker_wakeups', 'worker_busy_polls',
  'drop_tx_ring_full', 'tx_direct_frames', 'tx_ring_frames', 'tx_flow_limited',
  // Ethernet
  'drop_eth_truncated', 'drop_eth_not_for_us', 'drop_eth_unknown_type',
  // ARP
  'arp_requests_rx', 'arp_replies_rx', 'arp_requests_tx', 'arp_replies_tx', 'arp_gratuitous_tx',
  'arp_cache_evictions', 'arp_resolve_failed',
  'drop_arp_malformed', 'drop_arp_not_for_us', 'drop_arp_pending_full', 'drop_arp_unresolved',
  'arp_probes_tx', 'arp_probe_failures', 'arp_cache_gc',
  // IPv4
  'ipv4_rx', 'ipv4_tx',
  'drop_ipv4_truncated', 'drop_ipv4_version', 'drop_ipv4_ihl', 'drop_ipv4_total_length',
  'drop_ipv4_checksum', 'drop_ipv4_not_for_us', 'drop_ipv4_protocol', 'drop_ipv4_bad_source',
  'ipv4_fragments_rx', 'ipv4_reassembled', 'ipv4_fragments_tx', 'ipv4_fragmented_tx',
  'drop_reasm_timeout', 'drop_reasm_overlap', 'drop_reasm_oversize', 'drop_reasm_memory', 'drop_reasm_too_many',
  'drop_ipv4_too_big', 'drop_ipv4_no_route', 'drop_ipv4_frame_too_big',
  // ICMP
  'icmp_rx', 'icmp_echo_requests_rx', 'icmp_echo_replies_tx', 'icmp_unreachable_tx',
  'icmp_unreachable_rate_limited', 'icmp_other_rx', 'icmp_echo_broadcast_ignored', 'icmp_echo_fast_path',
  'icmp_time_exceeded_tx', 'icmp_time_exceeded_rate_limited',
  'drop_icmp_truncated', 'drop_icmp_checksum',
  // UDP
  'udp_rx', 'udp_tx', 'udp_rx_bytes', 'udp_tx_bytes',
  'drop_udp_truncated', 'drop_udp_checksum', 'drop_udp_no_port', 'drop_udp_length',
  // TCP
  'tcp_segments_rx', 'tcp_segments_tx', 'tcp_active_opens', 'tcp_passive_opens', 'tcp_established_total',
  'tcp_resets_rx', 'tcp_resets_tx', 'tcp_retransmits', 'tcp_fast_retransmits', 'tcp_rto_timeouts', 'tcp_syn_timeouts',
  'tcp_ooo_segments', 'tcp_challenge_acks', 'tcp_syn_cookies_tx', 'tcp_syn_cookies_ok', 'tcp_syn_cookies_bad',
  'tcp_delayed_acks', 'tcp_window_probes', 'tcp_tx_ring_waits', 'tcp_keepalive_probes', 'tcp_timeouts', 'tcp_time_wait_reused',
  'tcp_rx_bytes', 'tcp_tx_bytes', 'tcp_sack_recoveries', 'tcp_partial_acks', 'tcp_duplicate_segments_rx', 'tcp_sack_compressed',
  'drop_tcp_truncated', 'drop_tcp_bad_offset', 'drop_tcp_checksum', 'drop_tcp_bad_options', 'drop_tcp_no_listener',
  'drop_tcp_syn_queue_full', 'drop_tcp_paws', 'drop_tcp_out_of_window', 'drop_tcp_ack_unsent', 'drop_tcp_old_ack',
  'drop_tcp_no_ack', 'drop_tcp_ooo_full', 'drop_tcp_conn_limit', 'drop_tcp_rcv_buffer_full', 'drop_tcp_broadcast',
  'drop_tcp_time_wait_limit', 'drop_tcp_bad_cookie',
  'tcp_fin_wait2_timeouts', 'tcp_orphan_data_resets',
  'tcp_challenge_acks_suppressed', 'tcp_invalid_acks_suppressed', 'tcp_orphans_overflow_resets', 'tcp_orphan_timeouts',
  'tcp_loss_probes', 'tcp_loss_probe_recoveries', 'tcp_lost_retransmits',
  // RFC 8985 6 (RACK): reorder timer expiries, losses marked by time, reordering seen,
  // transmissions not logged (log full: those fall back to the RTO)
  'tcp_rack_reorder_timeouts', 'tcp_rack_marked_lost', 'tcp_rack_reordering_seen', 'tcp_rack_log_overflows',
  // RFC 2883: D-SACK blocks we sent (duplicates received) and received (our retransmissions the peer already had)
  'tcp_dsacks_tx', 'tcp_dsacks_rx',
  // RFC 3708 / RFC 3522: RTO series found spurious (D-SACK or Eifel) and undone (cwnd/ssthresh restored)
  'tcp_rto_undos',
  // A PMTU black-hole reduction undone: full-size segments sent before it were ACKed
  'tcp_pmtu_black_hole_undos',
  // Robustness: anything the core threw while handling a frame (a bug, never expected)
  'drop_internal_error',
  // Capture (phy/capture-device.ts): frames copied into the thread's capture ring, and
  // frames not captured because that ring was full (the frame itself goes on)
  'pcap_frames', 'pcap_dropped',
  // Fault injection (phy/fault-device.ts), per direction: what the injector did to frames
  'fault_rx_dropped', 'fault_rx_corrupted', 'fault_rx_duplicated', 'fault_rx_reordered', 'fault_rx_delayed',
  'fault_rx_rate_limited', 'fault_rx_hold_full',
  'fault_tx_dropped', 'fault_tx_corrupted', 'fault_tx_duplicated', 'fault_tx_reordered', 'fault_tx_delayed',
  'fault_tx_rate_limited', 'fault_tx_hold_full',
  // Gauges: current values, written by their owner thread (not monotonic)
  'arp_cache_entries', 'arp_pending_packets', 'reasm_pending_datagrams', 'reasm_buffered_bytes',
  'tcp_connections', 'tcp_time_wait', 'tcp_syn_queue', 'tcp_orphans',
  // Gauges: the thread's V8 heap (dataplane/heap-gauges.ts), refreshed about once a second
  'heap_used_bytes', 'heap_total_bytes', 'heap_external_bytes',
  // Connection trace (tcp/trace.ts): connections not traced because every ring of the
  // shard was taken, and traces kept in the archive after their connection closed
  'tcp_trace_untraced', 'tcp_traces_archived',
  // Time (µs) the thread spent running rather than parked waiting for work (stackctl top's busy %)
  'busy_us',
  // Time (µs) a worker's thread spent with its event loop not waiting for events: its turns,
  // and also the applications' work (their writes carry a download's transmits), its timers, RPC
  'loop_busy_us',
  // ICMP errors received (RFC 1122 4.2.3.9, RFC 5927): what came in, what was refused and why
  'icmp_errors_rx', 'icmp_frag_needed_rx', 'icmp_errors_rate_limited',
  'drop_icmp_error_quote', 'drop_icmp_error_no_flow', 'drop_icmp_error_bad_seq',
  'tcp_icmp_hard_errors', 'tcp_icmp_soft_errors', 'udp_icmp_errors',
  // Path MTU discovery (RFC 1191, RFC 8201-style cache; RFC 4821/8899 black holes)
  'pmtu_lowered', 'pmtu_ignored', 'pmtu_expired', 'pmtu_evictions', 'pmtu_entries',
  'tcp_mss_lowered', 'tcp_mss_restored', 'tcp_pmtu_black_holes',
  // RFC 5961 7: challenge ACKs not sent because the connection sent one (or an invalid-segment ACK) < 500 ms ago
  'tcp_challenge_acks_conn_limited',
  // IPv6 (shard 0 only: the I/O thread steers every IPv6 frame there)
  'ipv6_rx', 'ipv6_tx',
  'drop_ipv6_truncated', 'drop_ipv6_version', 'drop_ipv6_payload_length', 'drop_ipv6_not_for_us',
  'drop_ipv6_bad_source', 'drop_ipv6_tentative', 'drop_ipv6_ext_header', 'drop_ipv6_ext_chain_too_long',
  'drop_ipv6_hop_by_hop_not_first', 'drop_ipv6_routing_header', 'drop_ipv6_unknown_option',
  'drop_ipv6_next_header', 'drop_ipv6_no_route', 'drop_ipv6_too_big', 'drop_ipv6_fragment',
  'ipv6_atomic_fragments', 'ipv6_fragments_rx', 'ipv6_reassembled', 'ipv6_fragments_tx', 'ipv6_fragmented_tx',
  'drop_reasm6_timeout', 'drop_reasm6_overlap', 'drop_reasm6_oversize', 'drop_reasm6_memory', 'drop_reasm6_too_many',
  // ICMPv6
  'icmpv6_rx', 'icmpv6_echo_requests_rx', 'icmpv6_echo_replies_tx', 'icmpv6_param_problem_tx',
  'icmpv6_errors_rate_limited', 'icmpv6_errors_rx', 'icmpv6_other_rx', 'icmpv6_time_exceeded_tx',
  'drop_icmpv6_truncated', 'drop_icmpv6_checksum',
  // Neighbour discovery and MLD
  'nd_ns_rx', 'nd_na_rx', 'nd_ra_rx', 'nd_ns_tx', 'nd_na_tx', 'nd_rs_tx',
  'nd_dad_ok', 'nd_dad_duplicates', 'nd_resolve_failed', 'nd_probe_failures', 'nd_cache_evictions',
  'drop_nd_invalid', 'drop_nd_pending_full', 'drop_nd_unresolved',
  'drop_nd_router_list_full', 'mld_reports_tx', 'mld_queries_rx',
  'nd_cache_entries', 'nd_pending_packets', 'nd_default_routers', 'reasm6_pending_datagrams',
  // RFC 6937: ACKs in fast recovery whose sending was held to the slow start reduction bound (pipe ≤ ssthresh)
  'tcp_prr_ssrb_acks',
  // RFC 3168 ECN (tcp/ecn.ts): connections that negotiated it; segments sent with ECT(0)
  // (a TSO super-segment counts once), with ECE, with CWR; segments received with CE, ECE,
  // CWR; cwnd reductions in response to ECE (at most one per window of data)
  'tcp_ecn_negotiated', 'tcp_ecn_ect_tx', 'tcp_ecn_ece_tx', 'tcp_ecn_cwr_tx',
  'tcp_ecn_ce_rx', 'tcp_ecn_ece_rx', 'tcp_ecn_cwr_rx', 'tcp_ecn_cwnd_reductions',
  // a loss found in a window whose cwnd an ECN echo already reduced: recovery without a second reduction (RFC 3168 6.1.2)
  'tcp_ecn_loss_in_reduced_window',
  // TCP and UDP over IPv6 (decision 0030)
  'drop_ipv6_interner_full', 'ipv6_interned_addresses', 'drop_tcp6_multicast', 'drop_udp6_zero_checksum',
  'icmpv6_unreachable_tx', 'udp6_rx', 'udp6_tx', 'tcp6_segments_rx', 'ipv6_reassembled_foreign',
  // RFC 3708 / RFC 3522 (tcp/recovery/retransmit-undo.ts): fast recoveries found spurious
  // (every retransmission D-SACKed, or Eifel's timestamp) and undone; fast recoveries and
  // RTO series undone in which Eifel judged the first retransmission
  'tcp_fast_retransmit_undos', 'tcp_eifel_undos',
  // RFC 3168 6.1.2: ECN echoes that found cwnd at one segment: the next new segment waited for the retransmit timer
  'tcp_ecn_one_segment_waits',
  // RFC 7323 5.3 with Linux's tcp_disordered_ack(): pure duplicate ACKs PAWS would have
  // dropped, taken (reordered on the path; their SACK blocks count, TS.Recent stays)
  'tcp_paws_disordered_acks',
  // RFC 2018 8 / Linux tcp_timeout_mark_lost(): RTOs that found SND.UNA SACKed (the receiver
  // reneged): the SACK scoreboard is cleared and everything outstanding resent
  'tcp_sack_renegings', 'tcp_sack_scoreboard_overflows',
  // RFC 1122 4.2.3.6: the peer's keepalive and zero-window probes, <SEQ=RCV.NXT−1> with no
  // data, answered with an ACK (not out-of-window drops)
  'tcp_probes_rx',
  // RFC 9293 3.10.7.4: segments with no data before RCV.NXT (old ACKs overtaken on the path),
  // dropped and ACKed; drop_tcp_out_of_window keeps the ones beyond the window
  'drop_tcp_old_sequence',
] as const;

/** Counters that are gauges (a current value) rather than monotonic totals. */
export const GAUGE_NAMES: ReadonlySet<string> = new Set([
  'arp_cache_entries', 'arp_pending_packets', 'reasm_pending_datagrams', 'reasm_buffered_bytes',
  'tcp_connections', 'tcp_time_wait', 'tcp_syn_queue', 'tcp_orphans', 'pmtu_entries',
  'heap_used_bytes', 'heap_total_bytes', 'heap_external_bytes',
  'nd_cache_entries', 'nd_pending_packets', 'nd_default_routers', 'reasm6_pending_datagrams',
  'ipv6_interned_addresses',
]);

export type CounterName = (typeof COUNTER_NAMES)[number];

/** Index of each counter in a block. */
export const C: { readonly [K in CounterName]: number } = Object.freeze(
  Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as { [K in CounterName]: number },
);

export const COUNTER_COUNT = COUNTER_NAMES.length;

/** Bytes needed for one thread's block. */
export const COUNTER_BLOCK_BYTES = COUNTER_COUNT * 8;

/** A thread's counters: index with `C.name`, e.g. `counters[C.rx_frames]++`. */
export type Counters = Float64Array;

/** Allocates `threads` counter blocks in one SharedArrayBuffer. */
export function allocateCounterBlocks(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(COUNTER_BLOCK_BYTES * threads);
}

/** The block of thread `index` (0-based) in `sab`. */
export function counterBlock(sab: SharedArrayBuffer, index: number): Counters {
  return new Float64Array(sab, index * COUNTER_BLOCK_BYTES, COUNTER_COUNT);
}

/** A private block for tests and single-threaded use. */
export function newCounters(): Counters {
  return new Float64Array(COUNTER_COUNT);
}

/** Counters as a plain object, omitting zeros when `nonZeroOnly`. */
export function countersToObject(block: Counters, nonZeroOnly = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < COUNTER_COUNT; i++) {
    const v = block[i];
    if (!nonZeroOnly || v !== 0) out[COUNTER_NAMES[i]] = v;
  }
  return out;
}
