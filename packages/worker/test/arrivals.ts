import { Control, type SharedState } from '../src/shared-state.js';

/**
 * Waits (polling, at most `limitMs`) until `count` threads have counted themselves in at the
 * barrier: a thread that is not the last to arrive does not notify, so there is nothing to
 * wait on, and a fixed sleep races a slow thread start.
 */
export async function arrivals(state: SharedState, count: number, limitMs = 8_000): Promise<number> {
  const control = new Int32Array(state.control);
  const deadline = Date.now() + limitMs;
  while (Atomics.load(control, Control.arrived) < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return Atomics.load(control, Control.arrived);
}
