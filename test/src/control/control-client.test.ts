// Default control-socket path: the same resolution in `serve`, `status` and `top`.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultControlSocketPath, resolveControlSocketPath } from '../../../src/control/control-client.js';

describe('defaultControlSocketPath', () => {
  it('uses $RUNTIME_DIRECTORY under systemd (first entry when several)', () => {
    expect(defaultControlSocketPath({ RUNTIME_DIRECTORY: '/run/ampio-bridge', XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe(
      '/run/ampio-bridge/control.sock',
    );
    expect(defaultControlSocketPath({ RUNTIME_DIRECTORY: '/run/ampio-bridge:/run/other' }, 0)).toBe('/run/ampio-bridge/control.sock');
  });

  it('else $XDG_RUNTIME_DIR/ampio-bridge', () => {
    expect(defaultControlSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe('/run/user/1000/ampio-bridge/control.sock');
  });

  it('else a per-user directory under the OS temp dir', () => {
    expect(defaultControlSocketPath({}, 1234)).toBe(path.join(os.tmpdir(), 'ampio-bridge-1234', 'control.sock'));
    expect(defaultControlSocketPath({ RUNTIME_DIRECTORY: '', XDG_RUNTIME_DIR: '' }, 5)).toBe(path.join(os.tmpdir(), 'ampio-bridge-5', 'control.sock'));
  });

  it('--control-socket wins when given', () => {
    expect(resolveControlSocketPath('/tmp/x.sock', { RUNTIME_DIRECTORY: '/run/a' }, 0)).toBe('/tmp/x.sock');
    expect(resolveControlSocketPath('', { RUNTIME_DIRECTORY: '/run/a' }, 0)).toBe('/run/a/control.sock');
    expect(resolveControlSocketPath(undefined, {}, 7)).toBe(path.join(os.tmpdir(), 'ampio-bridge-7', 'control.sock'));
  });
});
