// The README's front door stays true: `npm start` runs the built bridge on the virtual bus
// on 127.0.0.1:20000, a client written from the spec receives the bus, and frames it sends
// reach a second client. (The command runs with port 0 here so a developer's running
// bridge does not collide with the test; everything else is the script verbatim.)
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { encode, TestClient } from '../support/cannelloni-client.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

let child: ChildProcess | null = null;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = null;
});

it('the README names the two commands, and package.json backs them', () => {
  expect(readme).toContain('npm install && npm start');
  expect(readme).toMatch(/```sh\nnpm test\n```/);
  expect(pkg.scripts.start).toMatch(/serve --backend virtual --listen 127\.0\.0\.1:20000$/);
  expect(pkg.scripts.test).toMatch(/vitest run$/);
  const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
  expect(ci.trim().split('\n').at(-1)).toBe('npm test');
});

it('npm start serves the virtual bus: clients receive it and see each other', async () => {
  const command = String(pkg.scripts.start).split('&&').at(-1)!.trim().replace('127.0.0.1:20000', '127.0.0.1:0');
  const [, ...args] = command.split(/\s+/); // "node dist/src/cli/main.js serve …"
  child = spawn(process.execPath, [...args, '--control-socket', `/tmp/ampio-bridge-readme-${process.pid}.sock`], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    child!.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /tcp_listen addr=127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child!.once('exit', (code) => reject(new Error(`bridge exited with ${code}:\n${log}`)));
  });
  const a = await TestClient.connect(port);
  const b = await TestClient.connect(port);
  // The simulated Ampio bus: extended IDs, mostly 8-byte payloads, about 250 frames/s.
  await a.waitForFrames(20, 5000);
  expect(a.frames.slice(0, 20).every((f) => (f.id & 0x80000000) !== 0 && f.len <= 8)).toBe(true);
  const before = b.frames.length;
  a.send(encode({ id: 0x123, data: [0xca, 0xfe] }));
  await b.until(() => b.frames.slice(before).some((f) => f.id === 0x123 && f.data.equals(Buffer.from([0xca, 0xfe]))), 5000, 'the frame from the other client');
  expect(a.frames.some((f) => f.id === 0x123)).toBe(false);
  a.destroy();
  b.destroy();
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child!.once('exit', resolve));
  expect(code).toBe(0);
  expect(log).toMatch(/shutdown_summary/);
});
