// socketcand through the shared protocol conformance suite (cannelloni as the other protocol).
import { cannelloniAdapter } from '../../../support/cannelloni-client.js';
import { runConformance } from '../../../support/protocol-conformance.js';
import { socketcandAdapter } from '../../../support/socketcand-client.js';

runConformance(socketcandAdapter, { partner: cannelloniAdapter });
