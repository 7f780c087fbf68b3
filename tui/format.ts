// Pure formatters and derived figures for `top`, by subject under format/. No React, no
// I/O, no clock: every function takes what it needs, so the screen can be tested from
// fixture snapshots. Judgements shared with `status` live in src/control/present.ts.

export * from './format/clients.js';
export * from './format/events.js';
export * from './format/numbers.js';
export * from './format/severity.js';
export * from './format/text.js';
