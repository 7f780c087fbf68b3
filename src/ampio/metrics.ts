// The house layer's Prometheus series, registered by the metrics registry when --ampio is
// on. Filled from the snapshot's `ampio` section at scrape time, like every other series:
// nothing is counted twice and the tap's path gains nothing.
import type { AmpioSnapshot } from './types.js';
import { addressText } from './present.js';

// Only the snapshot's time and its `ampio` section are read (the control protocol carries it; this layer sits below it).
type Reading = { snap: { time: number; ampio?: AmpioSnapshot } };
type Fill<M> = (m: M, r: Reading) => void;
type Factory<M> = (name: string, help: string, labelNames: string[], fill: Fill<M>) => void;
interface Settable {
  set(labels: Record<string, string>, value: number): void;
  set(value: number): void;
}
interface Incrementable {
  inc(labels: Record<string, string>, value: number): void;
  inc(value: number): void;
}

export function registerAmpioMetrics(counter: Factory<Incrementable>, gauge: Factory<Settable>): void {
  const heard = (r: Reading) => (r.snap.ampio?.modules ?? []).filter((m) => m.frames > 0);
  const labels = (m: { address: number; name: string | null }) => ({ module: addressText(m.address), name: m.name ?? '' });
  gauge('ampio_module_supply_volts', 'Supply voltage an Ampio module reports in its diagnostics broadcast (FE 4F).', ['module', 'name'], (g, r) => {
    for (const m of heard(r)) if (m.supplyVolts !== null) g.set(labels(m), m.supplyVolts);
  });
  gauge('ampio_module_temperature_celsius', 'Temperature an Ampio module reports in its diagnostics broadcast (FE 4F).', ['module', 'name'], (g, r) => {
    for (const m of heard(r)) if (m.temperatureC !== null) g.set(labels(m), m.temperatureC);
  });
  gauge('ampio_module_last_seen_seconds', 'Seconds since an Ampio module was last heard.', ['module', 'name'], (g, r) => {
    for (const m of heard(r)) g.set(labels(m), Math.max(0, (r.snap.time - m.lastSeen) / 1000));
  });
  gauge('ampio_modules_online', 'Ampio modules heard within --ampio-offline-after.', [], (g, r) =>
    g.set((r.snap.ampio?.modules ?? []).filter((m) => m.online).length),
  );
  gauge('ampio_modules', 'Ampio modules heard since start or named by the house file.', [], (g, r) => g.set(r.snap.ampio?.modules.length ?? 0));
  counter('ampio_state_frames_total', 'Ampio state broadcasts seen, by state type (two hex digits).', ['type'], (c, r) => {
    for (const [type, n] of Object.entries(r.snap.ampio?.decode.byType ?? {})) c.inc({ type }, n);
  });
  counter('ampio_decoded_frames_total', 'Ampio state broadcasts decoded into values.', [], (c, r) => c.inc(r.snap.ampio?.decode.decoded ?? 0));
  counter('ampio_truncated_frames_total', 'Ampio state broadcasts of a known type too short for any value.', [], (c, r) =>
    c.inc(r.snap.ampio?.decode.truncated ?? 0),
  );
  counter('ampio_unknown_frames_total', 'Ampio state broadcasts of a type without a decoder row, by type.', ['type'], (c, r) => {
    for (const [type, n] of Object.entries(r.snap.ampio?.decode.unknownTypes ?? {})) c.inc({ type }, n);
  });
}
