/**
 * The link device of a data-plane thread: its TAP link wrapped in the decorators of
 * decisions 0016/0017 — capture (always installed, off until a capture starts: one load
 * of the shared capture word per batch) and, with --fault, fault injection outside it,
 * so that the capture records what goes on and comes off the wire: frames the injector
 * drops on transmit are not captured, frames it drops on receive are. The threads'
 * injectors share a count of transmitted frames (CTL_FAULT_TX_FRAMES): a frame one of
 * them holds back for reordering waits for the next frame of any thread.
 */
import { counterBlock } from '../base/counters.js';
import type { LinkDevice } from '../base/link.js';
import { CaptureDevice } from '../phy/capture-device.js';
import { FaultDevice } from '../phy/fault-device.js';
import type { FaultConfig } from '../phy/fault-spec.js';
import { CaptureRingSink } from './capture-ring.js';
import { CTL_CAPTURE, CTL_FAULT_TX_FRAMES } from './thread-data.js';

/** What threadLink needs from a thread's workerData. */
export interface ThreadLinkData {
  captureRing: SharedArrayBuffer;
  fault: FaultConfig | null;
  control: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

/**
 * Wraps `tap` for thread `block` (its counter block: 0 for the I/O thread, 1 + i for
 * worker i, also its fault-injection stream).
 */
export function threadLink(tap: LinkDevice, data: ThreadLinkData, block: number): LinkDevice {
  const counters = counterBlock(data.counters, block);
  const control = new Int32Array(data.control);
  const captured = new CaptureDevice(tap, new CaptureRingSink(data.captureRing), control, CTL_CAPTURE, counters);
  if (data.fault === null) return captured;
  return new FaultDevice(captured, data.fault, counters, { stream: block, txFrames: { words: control, index: CTL_FAULT_TX_FRAMES } });
}
