// cannelloni through the shared protocol conformance suite (tcpcan as the other protocol).
import { cannelloniAdapter } from '../../../support/cannelloni-client.js';
import { runConformance } from '../../../support/protocol-conformance.js';
import { tcpcanAdapter } from '../../../support/tcpcan-client.js';

runConformance(cannelloniAdapter, { partner: tcpcanAdapter });
