// Waveshare 2-CH-CAN-TO-ETH through the shared protocol conformance suite (cannelloni as the
// other protocol), with a client written from the 13-byte format.
import { cannelloniAdapter } from '../../../support/cannelloni-client.js';
import { runConformance } from '../../../support/protocol-conformance.js';
import { waveshareAdapter } from '../../../support/waveshare-client.js';

runConformance(waveshareAdapter, { partner: cannelloniAdapter });
