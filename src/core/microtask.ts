// Runs a function when the current turn's microtasks run: queueMicrotask without its cost.
//
// Node's queueMicrotask wraps every callback in an AsyncResource (a new async id, the
// before/after hooks walked around the call, a destroy emitted after it). The frame path
// queues one per event-loop turn (the turn clock, the TX pump, the flush of
// --flush-interval 0), and in the CAN VM that wrapper was about 5 % of the bridge's main
// thread. A resolved promise's then() lands in the same V8 microtask queue, in the same
// order, without the wrapper. A throw in `fn` becomes an unhandled rejection, which Node
// raises as an uncaught exception, as queueMicrotask does.
const RESOLVED = Promise.resolve();

export function atTurnEnd(fn: () => void): void {
  void RESOLVED.then(fn);
}
