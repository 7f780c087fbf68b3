// The `where` label of errors_total: a bounded set, so a typo cannot mint a new series and a
// dashboard can list every value it will ever see. go-ampio-server's labels come first (the
// registry pre-registers them at 0 so alerts written for it see the series); then the
// bridge's own places, which the Go server has no counterpart for.

/** go-ampio-server's errors_total labels. */
export const GO_ERROR_WHERE = [
  'tcp_read',
  'tcp_write',
  'handshake',
  'serial_write',
  'serial_tx_overflow',
  'serial_read',
  'socketcan_write',
  'socketcan_tx_overflow',
  'socketcan_read',
] as const;

/**
 * The bridge's own: `accept` (a connection the listener could not take on), `decode` (a
 * client sent bytes its protocol cannot parse), `socket` (a client socket failed),
 * `backend_decode` (the device sent bytes its codec cannot parse).
 */
export const BRIDGE_ERROR_WHERE = ['accept', 'decode', 'socket', 'backend_decode'] as const;

export type ErrorWhere = (typeof GO_ERROR_WHERE)[number] | (typeof BRIDGE_ERROR_WHERE)[number];

/** Error counts by place; a place never hit is absent. */
export type ErrorCounts = Partial<Record<ErrorWhere, number>>;
