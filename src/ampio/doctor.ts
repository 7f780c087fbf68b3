// `doctor` checks of the house layer, from the running bridge's `ampio` snapshot section:
// the house file loaded, no module with a sagging supply, no module offline. Pure.
import { addressText, ageText } from './present.js';
import type { AmpioSnapshot } from './types.js';

export interface AmpioCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  title: string;
  detail?: string;
  fix?: string;
}

const who = (m: { address: number; name: string | null }) => (m.name ? `${m.name} (${addressText(m.address)})` : addressText(m.address));

export function ampioChecks(a: AmpioSnapshot | undefined, now: number): AmpioCheck[] {
  if (!a) return [{ id: 'ampio', status: 'ok', title: 'Ampio decoding', detail: 'off (serve runs with --ampio=false)' }];
  const checks: AmpioCheck[] = [];
  if (a.house.error) {
    checks.push({
      id: 'ampio-house-file',
      status: 'warn',
      title: 'Ampio house file',
      detail: a.house.error,
      fix: `fix the file, then \`sudo systemctl reload ampio-bridge\` (until then ${a.house.path ? `the names of ${a.house.path} as last read` : 'modules show under their addresses'})`,
    });
  } else if (a.house.path) {
    checks.push({
      id: 'ampio-house-file',
      status: 'ok',
      title: `Ampio house file ${a.house.path}`,
      detail: `${a.house.devices} modules, ${a.house.entities} entities`,
    });
  }
  const heard = a.modules.filter((m) => m.frames > 0);
  const low = heard.filter((m) => m.supplyVolts !== null && m.supplyVolts < a.lowSupplyVolts);
  for (const m of low) {
    checks.push({
      id: `ampio-supply-${m.key}`,
      status: 'warn',
      title: `Ampio module ${who(m)} supply`,
      detail: `${m.supplyVolts?.toFixed(1)} V, below ${a.lowSupplyVolts} V (--ampio-low-supply)`,
      fix: 'measure the 24 V supply at this module: a weak power supply, a long or thin bus cable, or a loose terminal drops the voltage',
    });
  }
  const offline = heard.filter((m) => !m.online);
  for (const m of offline) {
    checks.push({
      id: `ampio-offline-${m.key}`,
      status: 'warn',
      title: `Ampio module ${who(m)} offline`,
      detail: `silent for ${ageText(now - m.lastSeen)} (offline after ${ageText(a.offlineAfterMs)})`,
      fix: 'check its power and its bus cable; `ampio-bridge modules` shows when each module was last heard',
    });
  }
  if (low.length === 0 && offline.length === 0) {
    checks.push({
      id: 'ampio-modules',
      status: 'ok',
      title: 'Ampio modules',
      detail: heard.length === 0 ? 'none heard yet' : `${heard.length} online, supplies at or above ${a.lowSupplyVolts} V`,
    });
  }
  return checks;
}
