// config.json is world-readable unless it holds a secret; which answers make it one.
import { describe, expect, it } from 'vitest';
import { holdsSecret } from '../../provisioning/plan.js';

describe('config.json holds a secret (then 0640, group ampio-bridge)', () => {
  it('the web token hash, or a password in the MQTT or PostgreSQL URL', () => {
    expect(holdsSecret({})).toBe(false);
    expect(holdsSecret({ 'http-token-hash': 'scrypt$…' })).toBe(true);
    expect(holdsSecret({ 'mqtt-url': 'mqtt://127.0.0.1:1883' })).toBe(false);
    expect(holdsSecret({ 'mqtt-url': 'mqtt://user@127.0.0.1:1883' })).toBe(false);
    expect(holdsSecret({ 'mqtt-url': 'mqtts://ha:s3cret@broker.lan:8883' })).toBe(true);
    expect(holdsSecret({ 'pg-url': 'postgres://ampio:pw@db.lan/ampio' })).toBe(true);
    expect(holdsSecret({ 'pg-url': 'host=db.lan dbname=ampio password=pw' })).toBe(true);
    expect(holdsSecret({ 'pg-url': 'postgres:///ampio' })).toBe(false);
  });
});
