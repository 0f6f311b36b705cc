/**
 * The services' 'error' listener for their connections: one function per service, shared by
 * every connection it accepts (an idle connection then holds no closure of its own, issue 8
 * item 3). A connection error (a reset, a timeout) is the peer's business: logged at debug.
 */
import type { StackApi } from '../socket/stack-api.js';

/** A listener that logs `service`'s connection errors through `api.log`. */
export function connectionErrorLogger(api: StackApi, service: string): (e: Error) => void {
  return (e: Error) => api.log.debug({ err: e.message, service }, 'connection error');
}
