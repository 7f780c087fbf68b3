// Text forms of captured frames, kept here for the modules that import them by this path;
// each format lives in ./formats/ (candump log, GVRET CSV, ASC, PCAPNG, PCAP).
export { candumpLine } from './formats/candump.js';
export { GVRET_CSV_HEADER, gvretCsvLine } from './formats/gvret-csv.js';
