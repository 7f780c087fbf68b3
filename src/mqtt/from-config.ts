// `serve --mqtt-url …` → the MQTT service. Loaded only when MQTT is on, so `serve` without it
// never loads MQTT.js.
import type { AmpioView, CommandEncoders } from '../ampio/types.js';
import type { ServiceInputs } from '../daemon/services.js';
import { MqttService } from './service.js';

export function createMqttService(inputs: ServiceInputs, house: { view: AmpioView | null; encoders: CommandEncoders | null }): MqttService {
  const { log } = inputs;
  return new MqttService({
    config: inputs.config,
    hostname: inputs.hostname,
    version: inputs.build.version,
    buses: inputs.buses,
    view: house.view,
    encoders: house.encoders,
    snapshot: () => inputs.source.snapshot(),
    log: (level, event, fields) => log[level](event, fields),
  });
}
