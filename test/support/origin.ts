// Frame origins for backend and bus tests: session n of a test protocol (0 = the bridge).
// One frozen object per session number, so tests may compare them with toBe.
import { BRIDGE_ORIGIN, type FrameOrigin } from '../../src/core/frame.js';

const made = new Map<number, FrameOrigin>([[0, BRIDGE_ORIGIN]]);

export function originOf(session: number): FrameOrigin {
  let o = made.get(session);
  if (!o) made.set(session, (o = Object.freeze({ session, protocol: 'test' })));
  return o;
}
