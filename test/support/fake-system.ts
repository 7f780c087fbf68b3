// A recording Runner that also *simulates* the few system commands setup runs, against a
// temp root: systemctl enable/disable/restart/is-active, useradd/usermod, ip link, npm, sysctl.
// Real systemctl/useradd/ip must never run in tests (they would change this machine), and
// a bare recorder cannot show idempotence: the second probe must see the first run's
// effects (enabled unit, existing user). Nothing here spawns a process.

import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatCommand, type CommandResult, type Runner } from '../../provisioning/io/runner.js';

export interface FakeLink {
  name: string;
  operstate: string;
  txqlen: number;
  bitrate: number | null;
  restartMs: number;
  parentdev?: string;
}

export class FakeSystem implements Runner {
  readonly calls: string[][] = [];
  readonly active = new Set<string>();
  links: FakeLink[] = [];
  systemdVersion = 252;
  npmPrefix = '/usr/local';
  /** Commands (rendered) matching this fail with exit 1. */
  failOn: RegExp | null = null;

  constructor(readonly root: string) {}

  get lines(): string[] {
    return this.calls.map(formatCommand);
  }

  private host(p: string): string {
    return path.join(this.root, p);
  }

  private wants(unit: string): string {
    return this.host(`/etc/systemd/system/multi-user.target.wants/${unit}`);
  }

  async run(argv: readonly string[]): Promise<CommandResult> {
    this.calls.push([...argv]);
    const line = formatCommand(argv);
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    if (this.failOn?.test(line)) return { exitCode: 1, stdout: '', stderr: `injected failure: ${line}` };
    const [cmd, ...rest] = argv;
    const args = rest.filter((a) => !a.startsWith('--root='));
    switch (cmd) {
      case 'ip':
        if (args.join(' ') === '-details -json link show type can') {
          return ok(
            JSON.stringify(
              this.links.map((l) => ({
                ifname: l.name,
                operstate: l.operstate,
                txqlen: l.txqlen,
                parentdev: l.parentdev,
                linkinfo: {
                  info_kind: 'can',
                  info_data: {
                    state: 'ERROR-ACTIVE',
                    restart_ms: l.restartMs,
                    bittiming: l.bitrate ? { bitrate: l.bitrate, sample_point: '0.875' } : undefined,
                    clock: 8000000,
                  },
                },
              })),
            ),
          );
        }
        if (args[0] === 'link' && args[1] === 'set') {
          const l = this.links.find((x) => x.name === args[2]);
          if (!l) return { exitCode: 1, stdout: '', stderr: `Cannot find device "${args[2]}"` };
          const i = args.indexOf('bitrate');
          if (i > 0) l.bitrate = Number(args[i + 1]);
          const r = args.indexOf('restart-ms');
          if (r > 0) l.restartMs = Number(args[r + 1]);
          const q = args.indexOf('txqueuelen');
          if (q > 0) l.txqlen = Number(args[q + 1]);
          if (args[3] === 'up') l.operstate = 'UP';
          if (args[3] === 'down') l.operstate = 'DOWN';
          return ok();
        }
        return ok();
      case 'systemctl': {
        if (args[0] === '--version') return ok(`systemd ${this.systemdVersion} (${this.systemdVersion}.38-1~deb12u1)\n+PAM +AUDIT\n`);
        if (args[0] === 'is-active') return this.active.has(args[1]) ? ok('active\n') : { exitCode: 3, stdout: 'inactive\n', stderr: '' };
        const now = args.includes('--now');
        const named = args.slice(1).filter((a) => !a.startsWith('--'));
        // [Install] Also=: enabling or disabling networkd does the same to its wait-online unit.
        const units = named.flatMap((u) => (u === 'systemd-networkd.service' ? [u, 'systemd-networkd-wait-online.service'] : [u]));
        if (args[0] === 'enable') {
          for (const u of units) {
            mkdirSync(path.dirname(this.wants(u)), { recursive: true });
            if (!existsSync(this.wants(u))) symlinkSync(`/etc/systemd/system/${u}`, this.wants(u));
            if (now) this.active.add(u);
          }
        } else if (args[0] === 'disable') {
          for (const u of units) {
            try {
              unlinkSync(this.wants(u));
            } catch {
              // not enabled
            }
            if (now) this.active.delete(u);
          }
        } else if (args[0] === 'restart' || args[0] === 'start') for (const u of units) this.active.add(u);
        else if (args[0] === 'stop') for (const u of units) this.active.delete(u);
        return ok();
      }
      case 'useradd': {
        const name = args[args.length - 1];
        const gi = args.indexOf('--groups');
        const groups = gi >= 0 ? args[gi + 1].split(',') : [];
        writeFileSync(
          this.host('/etc/passwd'),
          `${readFileSync(this.host('/etc/passwd'), 'utf8')}${name}:x:999:999:ampio-bridge daemon:/nonexistent:/usr/sbin/nologin\n`,
        );
        writeFileSync(this.host('/etc/group'), `${readFileSync(this.host('/etc/group'), 'utf8')}${name}:x:999:\n`);
        for (const g of groups) this.addToGroup(name, g);
        return ok();
      }
      case 'userdel': {
        // userdel also removes the user's own group (USERGROUPS_ENAB) and its memberships.
        const name = args[args.length - 1];
        const drop = (file: string) => {
          const lines = readFileSync(this.host(file), 'utf8').split('\n');
          const kept = lines
            .filter((l) => l.split(':')[0] !== name)
            .map((l) => {
              const f = l.split(':');
              if (f.length < 4 || f[3] === '') return l;
              f[3] = f[3]
                .split(',')
                .filter((m) => m !== name)
                .join(',');
              return f.join(':');
            });
          writeFileSync(this.host(file), kept.join('\n'));
        };
        drop('/etc/passwd');
        drop('/etc/group');
        return ok();
      }
      case 'cp': {
        // `cp -- SRC DEST` with host paths (setup --root copies a release tarball into the image).
        const [src, dest] = args.filter((a) => a !== '--');
        try {
          copyFileSync(src, dest);
          return ok();
        } catch (err) {
          return { exitCode: 1, stdout: '', stderr: `cp: ${(err as Error).message}` };
        }
      }
      case 'apt-get': {
        // `apt-get install … systemd-networkd`: the package brings its unit file.
        if (args[0] === 'install' && args.includes('systemd-networkd')) {
          mkdirSync(this.host('/usr/lib/systemd/system'), { recursive: true });
          writeFileSync(this.host('/usr/lib/systemd/system/systemd-networkd.service'), '[Unit]\nDescription=Network Configuration (fake apt)\n');
          return ok();
        }
        return { exitCode: 100, stdout: '', stderr: `E: fake apt-get cannot ${args.join(' ')}` };
      }
      case 'sysctl': {
        // `sysctl -p FILE` loads KEY = VALUE lines, `sysctl -w KEY=VALUE` sets one: both
        // land in the root's /proc/sys, where probe and doctor read them back.
        const pairs: string[] = [];
        if (args[0] === '-p')
          pairs.push(
            ...readFileSync(this.host(args[1]), 'utf8')
              .split('\n')
              .filter((l) => /^\s*[\w.]+\s*=/.test(l)),
          );
        else if (args[0] === '-w') pairs.push(args[1]);
        else return { exitCode: 255, stdout: '', stderr: `fake sysctl cannot ${args.join(' ')}` };
        for (const p of pairs) {
          const [key, value] = p.split('=').map((x) => x.trim());
          const file = this.host(`/proc/sys/${key.replace(/\./g, '/')}`);
          // The real one cannot create a key the kernel does not have.
          if (!existsSync(file))
            return { exitCode: 255, stdout: '', stderr: `sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory` };
          writeFileSync(file, `${value}\n`);
        }
        return ok();
      }
      case 'usermod': {
        const gi = args.indexOf('--groups');
        this.addToGroup(args[args.length - 1], args[gi + 1]);
        return ok();
      }
      case 'npm':
        if (args[0] === 'prefix') return ok(`${this.npmPrefix}\n`);
        if (args[0] === 'install') {
          const spec = args[args.length - 1];
          // ampio-bridge@0.1.0 from the registry, or a packed …/ampio-bridge-0.1.0.tgz.
          const version = /-(\d[^/]*?)\.tgz$/.exec(spec)?.[1] ?? (spec.split('@').pop() as string);
          const dir = this.host(path.posix.join(this.npmPrefix, 'lib/node_modules/ampio-bridge'));
          mkdirSync(dir, { recursive: true });
          writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version }));
        }
        return ok();
      default:
        return ok();
    }
  }

  private addToGroup(user: string, group: string): void {
    const file = this.host('/etc/group');
    const lines = readFileSync(file, 'utf8').split('\n');
    const out = lines.map((l) => {
      const parts = l.split(':');
      if (parts[0] !== group) return l;
      const members = parts[3] ? parts[3].split(',') : [];
      if (!members.includes(user)) members.push(user);
      parts[3] = members.join(',');
      return parts.join(':');
    });
    writeFileSync(file, out.join('\n'));
  }
}
