// setup --mqtt-url connects to the broker once before it writes anything: a real mosquitto
// on 127.0.0.1 (password file); a wrong password writes nothing and says why.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { mqttChecks } from '../../src/mqtt/doctor.js';
import { PATHS } from '../../provisioning/types.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { type Broker, startBroker } from '../support/mosquitto.js';
import { NODE, STABLE_MAIN } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker?.close());
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const deps = (root: string) => ({
  nodePath: NODE,
  runningMain: STABLE_MAIN,
  version: '0.1.0',
  now: () => new Date('2025-03-01T10:00:00Z'),
  runner: new FakeSystem(root),
});

describe('setup --mqtt-url', () => {
  it('a broker that refuses the password: exit 1, the reason, nothing written', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const cli = captureCli({ isRoot: false });
    const url = broker.url().replace(broker.password, 'wrong');
    expect(await setupCommand(['--yes', '--root', t.root, '--mqtt-url', url], cli.ctx, deps(t.root))).toBe(1);
    expect(cli.stderr()).toMatch(
      /the MQTT broker did not accept the bridge: mqtt:\/\/bridge:\*\*\*@127\.0\.0\.1:\d+: .*(not authori[sz]ed|bad user name or password).*check the user and password/i,
    );
    expect(cli.stderr()).not.toContain('wrong');
    expect(existsSync(path.join(t.root, PATHS.configFile))).toBe(false);
  });

  it('a broker that accepts: the URL is written to the config file', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const cli = captureCli({ isRoot: false });
    expect(await setupCommand(['--yes', '--root', t.root, '--mqtt-url', broker.url()], cli.ctx, deps(t.root))).toBe(0);
    expect(JSON.parse(readFileSync(path.join(t.root, PATHS.configFile), 'utf8'))['mqtt-url']).toBe(broker.url());
  });
});

describe('doctor: MQTT', () => {
  it('off, a broker that accepts, one that refuses (with the fix), one that is not there', async () => {
    expect(await mqttChecks({}, {})).toEqual([{ id: 'mqtt', status: 'ok', title: 'MQTT', detail: 'off (--mqtt-url not set)' }]);
    expect(await mqttChecks({ 'mqtt-url': broker.url() }, {})).toMatchObject([{ status: 'ok', detail: 'accepts the bridge' }]);
    const [bad] = await mqttChecks({}, { AMPIO_BRIDGE_MQTT_URL: broker.url().replace(broker.password, 'nope') });
    expect(bad).toMatchObject({ status: 'fail', title: `MQTT broker mqtt://bridge:***@127.0.0.1:${broker.port}` });
    expect(bad.detail).toMatch(/check the user and password/);
    const { freePort } = await import('../support/free-port.js');
    const [gone] = await mqttChecks({ 'mqtt-url': `mqtt://127.0.0.1:${await freePort()}` }, {});
    expect(gone.detail).toMatch(/ECONNREFUSED.*nothing listens there/);
  });
});
