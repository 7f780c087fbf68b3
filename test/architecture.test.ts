// The dependency rules, checked on the source text: the rooms on their floors (no import runs
// upward), a pure core, tui/ and provisioning/ kept to their narrow doors, and `serve` free of
// React, Ink and inquirer. Also the fixed top level of the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireHostTools } from './support/host-tools.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|tsx|mts)$/.test(entry.name)) continue;
    out.push(path.relative(ROOT, path.join(entry.parentPath, entry.name)));
  }
  return out;
}

/** Static and dynamic import specifiers of a file. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

/** Resolves a relative specifier to a repo-relative path (without extension mapping). */
function resolveSpec(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return path
    .relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), spec))
    .replace(/\.js$/, '.ts')
    .replace(/\.jsx$/, '.tsx');
}

const NODE_IO = ['fs', 'net', 'dgram', 'child_process', 'http', 'https', 'tls', 'os', 'worker_threads', 'cluster', 'readline', 'timers'];
const isNodeIo = (spec: string): boolean =>
  NODE_IO.some((m) => spec === m || spec === `node:${m}` || spec.startsWith(`node:${m}/`) || spec.startsWith(`${m}/`));

/**
 * The house, ground floor first: a room may import only rooms listed before it. `core` is the
 * shared vocabulary (frames, the tap contract, backend and bus-state words); `options` is the
 * options core (an entry's shape and its parsers) the plug-ins and the table both build on;
 * services (capture, mqtt, web) fill the control protocol's snapshot, so they sit above it,
 * and `service` is their contract; the house decoder (ampio) is below control, which carries
 * its section; the daemon (src/daemon.ts and src/daemon/) wires them; the CLI is the roof.
 */
const FLOORS = [
  'core',
  'guard',
  'options',
  'system',
  'protocols',
  'config',
  'backends',
  'ampio',
  'control',
  'bus',
  'server',
  'capture',
  'metrics',
  'service',
  'mqtt',
  'web',
  'daemon',
  'tui',
  'provisioning',
  'cli',
];

/** The room a repo-relative file lives in; undefined for a file no room claims. */
function roomOf(file: string): string | undefined {
  if (file === 'src/daemon.ts') return 'daemon';
  const [top, folder, rest] = file.split('/');
  if (top === 'tui' || top === 'provisioning') return top;
  if (top !== 'src' || rest === undefined) return undefined;
  return FLOORS.includes(folder) ? folder : undefined;
}

describe('architecture', () => {
  it('the top level is the fixed set', () => {
    const allowed = new Set([
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'vitest.config.ts',
      'README.md',
      '.gitignore',
      '.ci',
      // node-gyp's build description for the SocketCAN addon (used where no prebuilt binary fits)
      'binding.gyp',
      // the linter and formatter's settings (biome; .jsonc so each disabled rule carries its reason)
      'biome.jsonc',
      'src',
      'tui',
      'provisioning',
      'overlays',
      'test',
      '.git',
      'node_modules',
      'dist',
    ]);
    // What git tracks (build output, caches and packed tarballs are ignored, not committed).
    requireHostTools('git');
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const extra = [...new Set(tracked.map((f) => f.split('/')[0]))].filter((n) => !allowed.has(n));
    expect(extra).toEqual([]);
  });

  it('src/core is pure: no Node I/O modules, no imports outside core', () => {
    const bad: string[] = [];
    for (const file of sourceFiles('src/core')) {
      for (const spec of importsOf(file)) {
        const target = resolveSpec(file, spec);
        if (isNodeIo(spec) || (spec.startsWith('.') && !target.startsWith('src/core/'))) bad.push(`${file} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every room imports only rooms on lower floors (type-only imports included), and every file has a room', () => {
    const bad: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('tui'), ...sourceFiles('provisioning')]) {
      const from = roomOf(file);
      if (from === undefined) {
        bad.push(`${file} is in no room: add its folder to FLOORS`);
        continue;
      }
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveSpec(file, spec);
        const to = roomOf(target);
        if (to === undefined || to === from) continue;
        // `serve`'s command shims reach tui/ and provisioning/ lazily; that is the CLI's top floor.
        if (FLOORS.indexOf(to) > FLOORS.indexOf(from)) bad.push(`${file} (${from}) → ${spec} (${to}, a higher floor)`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every folder under src/ is a room on the floor list', () => {
    const folders = fs
      .readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((name) => !FLOORS.includes(name))).toEqual([]);
  });

  it('tui/ imports only the control protocol, the control client and pure formatters', () => {
    // src/control/present.ts: the severities and formats `status` uses too, so the two agree;
    // src/ampio/present.ts and types.ts: the same for `modules` and top's modules view;
    // src/control/mqtt-snapshot.ts: the MQTT section and its one-line form (status and top's MQTT line).
    const allowed = [
      'src/control/protocol.ts',
      // the protocol's messages and its capture lines, split from protocol.ts
      'src/control/messages.ts',
      'src/control/describe-capture.ts',
      'src/control/control-client.ts',
      'src/control/present.ts',
      'src/ampio/present.ts',
      'src/ampio/types.ts',
      'src/control/mqtt-snapshot.ts',
    ];
    const bad: string[] = [];
    for (const file of sourceFiles('tui')) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveSpec(file, spec);
        if (target.startsWith('tui/')) continue;
        if (!allowed.includes(target) && !target.startsWith('src/core/')) bad.push(`${file} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('provisioning/ imports only the options table and its parsers (and overlays data) from the daemon', () => {
    // Pure config modules (the wizard and the plan validate exactly as serve does) and the one
    // package-root finder. Setup's flags are read by the CLI (src/cli/commands/setup-flags.ts).
    const allowed = ['src/config/options.ts', 'src/options/parsers.ts', 'src/options/spec.ts', 'src/system/package-root.ts'];
    const bad: string[] = [];
    for (const file of sourceFiles('provisioning')) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveSpec(file, spec);
        if (target.startsWith('provisioning/') || target.startsWith('overlays/')) continue;
        if (!allowed.includes(target)) bad.push(`${file} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('React, Ink and inquirer load only in tui/ and provisioning/ (never in serve)', () => {
    const bad: string[] = [];
    for (const file of sourceFiles('src')) {
      for (const spec of importsOf(file)) {
        if (/^(react|ink|inquirer|@inquirer\/)/.test(spec)) bad.push(`${file} → ${spec}`);
        // The command shims may import tui/ and provisioning/ only lazily.
      }
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      // `import type` is erased at compile time, so it loads nothing.
      for (const m of text.matchAll(/^import(?!\s+type\s)[^;]*from\s*['"]([^'"]*(?:tui|provisioning)\/[^'"]*)['"]/gm))
        bad.push(`${file} statically imports ${m[1]}`);
    }
    expect(bad).toEqual([]);
  });

  it('the native bindings load lazily, only in their own backend', () => {
    const bad: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('tui'), ...sourceFiles('provisioning')]) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/^import\s[^;]*from\s*['"](serialport|@serialport\/[^'"]*)['"]/gm)) {
        if (!text.slice(m.index, m.index + m[0].length).startsWith('import type')) bad.push(`${file} statically imports ${m[1]}`);
      }
      for (const m of text.matchAll(/import\(\s*['"](serialport|@serialport\/[^'"]*)['"]/g)) {
        if (file !== 'src/backends/serial.ts') bad.push(`${file} loads ${m[1]}`);
      }
      // our own SocketCAN addon, through node-gyp-build
      if (/['"]node-gyp-build['"]/.test(text) && file !== 'src/backends/socketcan/binding.ts') bad.push(`${file} loads node-gyp-build`);
    }
    expect(bad).toEqual([]);
  });

  it('config/, daemon/ and provisioning/ name no wire protocol: they compose the plug-ins from the registry', async () => {
    const { PROTOCOLS } = await import('../src/protocols/registry.js');
    const names = Object.keys(PROTOCOLS);
    expect(names).toContain('waveshare');
    const files = [...sourceFiles('src/config'), ...sourceFiles('src/daemon'), 'src/daemon.ts', ...sourceFiles('provisioning')];
    const templates = fs.readdirSync(path.join(ROOT, 'provisioning/templates')).map((f) => `provisioning/templates/${f}`);
    const bad: string[] = [];
    for (const file of [...files, ...templates]) {
      fs.readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, k) => {
          // The Waveshare CAN *HAT* is hardware (a board setup installs), not the wire protocol.
          const text = line.replace(/Waveshare 2-CH CAN HAT|waveshare-2ch-can-hat|old Waveshare\/go-ampio-server guide/gi, '');
          for (const name of names) if (text.toLowerCase().includes(name)) bad.push(`${file}:${k + 1} names ${name}`);
        });
    }
    expect(bad).toEqual([]);
  });

  it('only src/cli may call process.exit', () => {
    const bad: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('tui'), ...sourceFiles('provisioning')]) {
      if (file.startsWith('src/cli/')) continue;
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      if (/process\.exit\s*\(/.test(text)) bad.push(file);
    }
    expect(bad).toEqual([]);
  });

  it('comments cite no document the repository does not ship (the fact goes in the comment)', () => {
    // e.g. "protocols.md §2", "user-needs #12", "architecture §8.12", "shared/docs/…".
    const citation = /(?:protocols|user-needs|architecture|hardware|code-review)(?:\.md\b|\s*§\s*\d|\s*#\d)|DEVELOPERS\.md|shared\/docs\/|§\s*\d/;
    const bad: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('tui'), ...sourceFiles('provisioning')]) {
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (citation.test(line)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });
});
