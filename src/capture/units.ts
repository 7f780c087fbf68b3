// Sizes and ages for people (the `capture` command, doctor): the one convention of
// src/core/human-units.ts. The parsers of the --capture-max-size/--capture-retention values
// live with the options table.
export { formatAgeMs as humanAge, formatBytes as humanBytes } from '../core/human-units.js';
