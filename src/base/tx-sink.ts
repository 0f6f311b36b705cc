/**
 * Where the sans-I/O core writes the frames it sends.
 *
 * The core builds each outgoing frame in place: it reserves room, writes headers and
 * payload into `buf` at the returned offset, and commits the real length. In a shard
 * worker the sink is the worker's TX ring (no copy); in tests it is a virtual wire that
 * keeps the frames.
 */
export interface TxSink {
  /** Bytes of the sink's memory; offsets returned by `reserve` index into it. */
  readonly buf: Uint8Array;
  /**
   * Reserves room for a frame of at most `maxLen` bytes. Returns the offset in `buf`
   * where the frame starts, or -1 when there is no room (the caller drops and counts).
   */
  reserve(maxLen: number): number;
  /** Commits the frame started by the last `reserve`, `len` bytes long (len <= maxLen). */
  commit(len: number): void;
  /**
   * Asks the device to finish the frame being built (between reserve and commit): the
   * virtio-net header fields (flags NEEDS_CSUM, gso_type TCPV4 for segmentation, header
   * length, gso_size, checksum start and offset). Sinks without offload omit this; the
   * core only uses it when its config says the device offloads.
   */
  offload?(flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): void;
}
