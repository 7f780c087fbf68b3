// Build step (`npm run build`): records version, commit and date in dist/build-info.json
// for `ampio-bridge --version` and the build_info metric. Plain .mjs so it runs before or
// without the TypeScript output. Honours SOURCE_DATE_EPOCH for reproducible builds.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // not a git checkout (npm tarball) or no git installed
  }
}

let commit = git('rev-parse', '--short', 'HEAD');
// Tracked files changed since that commit: say so instead of claiming the commit's code.
if (commit && git('status', '--porcelain', '--untracked-files=no')) commit += '-dirty';

const epoch = Number(process.env.SOURCE_DATE_EPOCH);
const date = new Date(Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : Date.now()).toISOString();

const info = { version: pkg.version, commit, date };
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
