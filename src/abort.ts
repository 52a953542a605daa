/**
 * A rejection handler for a wait given an AbortSignal: an aborted wait rejects with the signal's own reason
 * (Node's timers and the lease wait give a generic AbortError), so callers recognize the run's cancellation.
 */
export function withAbortReason(signal: AbortSignal | undefined): (err: unknown) => never {
  return (err) => {
    signal?.throwIfAborted();
    throw err;
  };
}
