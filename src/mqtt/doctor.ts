// `doctor` checks of MQTT: off, or the broker accepts the bridge (one connection, the same
// URL, CA and client certificate the service would use). Read-only: it publishes nothing.
import { redactMqttUrl } from '../config/options-mqtt.js';
import { probeBroker } from './probe.js';

export interface MqttCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  title: string;
  detail?: string;
  fix?: string;
}

function setting(cfg: Record<string, unknown>, env: Record<string, string | undefined>, flag: string): string {
  const raw = env[`AMPIO_BRIDGE_${flag.toUpperCase().replace(/-/g, '_')}`] ?? (cfg[flag] === undefined ? undefined : String(cfg[flag]));
  return (raw ?? '').trim();
}

export async function mqttChecks(cfg: Record<string, unknown>, env: Record<string, string | undefined>, probe = probeBroker): Promise<MqttCheck[]> {
  const url = setting(cfg, env, 'mqtt-url');
  if (url === '' || url === 'off') return [{ id: 'mqtt', status: 'ok', title: 'MQTT', detail: 'off (--mqtt-url not set)' }];
  const title = `MQTT broker ${redactMqttUrl(url)}`;
  const problem = await probe({ url, ca: setting(cfg, env, 'mqtt-ca'), cert: setting(cfg, env, 'mqtt-cert'), key: setting(cfg, env, 'mqtt-key') });
  if (problem)
    return [
      {
        id: 'mqtt',
        status: 'fail',
        title,
        detail: problem,
        fix: 'fix --mqtt-url (or the broker), then `sudo systemctl restart ampio-bridge`; the bridge keeps serving CAN clients meanwhile',
      },
    ];
  return [{ id: 'mqtt', status: 'ok', title, detail: 'accepts the bridge' }];
}
