// The one shape of "log this event" that modules take instead of a whole Logger: the
// daemon hands each edge (metrics, mDNS, backends, control socket) a function of this type.
// Pure type, so src/core and every edge may import it.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFn = (level: LogLevel, event: string, fields?: Record<string, unknown>) => void;
