// The host-tool check that tests call before they spawn a real part, and the promise behind
// it: every Debian package it names is one that .ci/run installs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_TOOLS, missingHostTools, requireHostTools } from './support/host-tools.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('host tools', () => {
  it('a missing tool fails with its name and Debian package, not a timeout', () => {
    expect(() => requireHostTools('nc', 'no-such-tool-here')).toThrow(/missing host tools?: .*no-such-tool-here \(Debian package unknown/);
    expect(missingHostTools(['nc'], '/nonexistent')).toEqual(['nc']);
    const message = (() => {
      try {
        requireHostTools('socat');
        return '';
      } catch (err) {
        return String(err);
      }
    })();
    // Present here (CI installs it) or named with its package: never silent.
    expect(message === '' || message.includes('Debian package socat')).toBe(true);
  });

  it('.ci/run installs the package of every tool the tests may ask for', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const installed = new Set([...ci.matchAll(/^PKGS(?:\+)?=\(([^)]*)\)/gm)].flatMap((m) => m[1].split(/\s+/).filter(Boolean)));
    // dpkg and binutils come with every Debian machine that can build (build-essential).
    const implied = new Set(['dpkg', 'binutils']);
    const missing = Object.entries(HOST_TOOLS)
      .flatMap(([tool, pkgs]) =>
        pkgs
          .split(/[\s,()]+/)
          .filter((p) => /^[a-z0-9][a-z0-9.+-]+$/.test(p) && !['and', 'with'].includes(p))
          .map((p) => [tool, p]),
      )
      .filter(([, p]) => !installed.has(p) && !implied.has(p));
    expect(missing).toEqual([]);
  });
});
