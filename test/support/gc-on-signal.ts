// Preloaded into a bridge child by the churn tests and benchmark (`node --expose-gc --import
// dist/test/support/gc-on-signal.js …`): SIGUSR2 runs a full garbage collection, so the heap
// the control socket then reports is what is still referenced, not garbage waiting for a
// collection. Test-only: the product never calls gc().
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) process.on('SIGUSR2', () => gc());
