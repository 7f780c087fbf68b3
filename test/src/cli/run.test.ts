import { describe, expect, it } from 'vitest';
import type { CommandModule } from '../../../src/cli/context.js';
import { loadCommand, runCli } from '../../../src/cli/run.js';
import { captureCli } from '../../support/cli-context.js';

/** A loader that records what was asked for and runs a fake command. */
function fakeLoader(run: CommandModule['run'] = async () => 0) {
  const loaded: string[] = [];
  const calls: string[][] = [];
  return {
    loaded,
    calls,
    load: async (name: string): Promise<CommandModule> => {
      loaded.push(name);
      return { run: async (args, ctx) => (calls.push(args), run(args, ctx)) };
    },
  };
}

describe('runCli', () => {
  it('no command: the command list on stderr and exit 2 (a script that lost its argument must not succeed)', async () => {
    const cli = captureCli();
    const loader = fakeLoader();
    expect(await runCli([], cli.ctx, loader.load)).toBe(2);
    expect(cli.stderr()).toContain('Commands:');
    expect(cli.stdout()).toBe('');
    expect(loader.loaded).toEqual([]);
  });

  it('prints the command list for -h, --help, help, help --help and help -h', async () => {
    for (const argv of [['-h'], ['--help'], ['help'], ['help', '--help'], ['help', '-h']]) {
      const cli = captureCli();
      const loader = fakeLoader();
      expect(await runCli(argv, cli.ctx, loader.load)).toBe(0);
      expect(cli.stdout()).toContain('Commands:');
      expect(cli.stdout()).toMatch(/^ {2}serve +run the bridge/m);
      expect(loader.loaded).toEqual([]);
    }
  });

  it('routes a command and its arguments, and returns its exit code', async () => {
    const cli = captureCli();
    const loader = fakeLoader(async () => 7);
    expect(await runCli(['status', '--json'], cli.ctx, loader.load)).toBe(7);
    expect(loader.loaded).toEqual(['status']);
    expect(loader.calls).toEqual([['--json']]);
  });

  it('--version, -v, -V and help <cmd> go to the commands', async () => {
    const cli = captureCli();
    const loader = fakeLoader();
    await runCli(['--version'], cli.ctx, loader.load);
    await runCli(['-v'], cli.ctx, loader.load);
    await runCli(['-V', '--json'], cli.ctx, loader.load);
    await runCli(['help', 'serve'], cli.ctx, loader.load);
    expect(loader.loaded).toEqual(['version', 'version', 'version', 'serve']);
    expect(loader.calls).toEqual([[], [], ['--json'], ['--help']]);
    expect(cli.stderr()).toBe('');
  });

  it('suggests only what is close: a far-off command or flag gets a pointer to --help instead', async () => {
    const a = captureCli();
    expect(await runCli(['frobnicate'], a.ctx, fakeLoader().load)).toBe(2);
    expect(a.stderr()).toBe('ampio-bridge: unknown command "frobnicate"; run "ampio-bridge --help" for the commands\n');
    const b = captureCli();
    expect(await runCli(['--bogus'], b.ctx, fakeLoader().load)).toBe(2);
    expect(b.stderr()).toBe('ampio-bridge: unknown flag --bogus; run "ampio-bridge --help" for the commands\n');
  });

  it('unknown command: one line with the closest command, exit 2, nothing loaded', async () => {
    const cli = captureCli();
    const loader = fakeLoader();
    expect(await runCli(['serv'], cli.ctx, loader.load)).toBe(2);
    expect(cli.stderr()).toBe('ampio-bridge: unknown command "serv" (did you mean "serve"?)\n');
    expect(loader.loaded).toEqual([]);
    const help = captureCli();
    expect(await runCli(['help', 'stats'], help.ctx, loader.load)).toBe(2);
    expect(help.stderr()).toBe('ampio-bridge: unknown command "stats" (did you mean "status"?)\n');
  });

  it('unknown top-level flag: suggests --help/--version, or serve for a serve flag', async () => {
    const a = captureCli();
    expect(await runCli(['--verison'], a.ctx, fakeLoader().load)).toBe(2);
    expect(a.stderr()).toBe('ampio-bridge: unknown flag --verison (did you mean --version?)\n');
    const b = captureCli();
    expect(await runCli(['--listen', ':1'], b.ctx, fakeLoader().load)).toBe(2);
    expect(b.stderr()).toBe('ampio-bridge: unknown flag --listen (did you mean "ampio-bridge serve --listen"?)\n');
  });

  it('a command that fails to load is reported with what to do, exit 1', async () => {
    const cli = captureCli();
    const code = await runCli(['top'], cli.ctx, async () => {
      throw Object.assign(new Error('the "top" command failed to load: Cannot find package \'ink\''), { hint: 'reinstall with npm ci' });
    });
    expect(code).toBe(1);
    expect(cli.stderr()).toBe('ampio-bridge: the "top" command failed to load: Cannot find package \'ink\'\n  → reinstall with npm ci\n');
  });

  it('a command that throws is reported on one line with its hint, exit 1', async () => {
    const cli = captureCli();
    const loader = fakeLoader(async () => {
      throw Object.assign(new Error('daemon not running'), { hint: 'start it: systemctl start ampio-bridge' });
    });
    expect(await runCli(['status'], cli.ctx, loader.load)).toBe(1);
    expect(cli.stderr()).toBe('ampio-bridge status: daemon not running\n  → start it: systemctl start ampio-bridge\n');
  });
});

describe('loadCommand', () => {
  it('loads a real command module', async () => {
    const mod = await loadCommand('version');
    expect(typeof mod.run).toBe('function');
  });

  it('says clearly when a command module is not in the build', async () => {
    await expect(loadCommand('no-such-command')).rejects.toMatchObject({
      code: 'COMMAND_LOAD_FAILED',
      message: expect.stringContaining('"no-such-command" command is not part of this build'),
    });
  });
});

describe('version command', () => {
  it('prints version, commit and build date; --json; rejects unknown flags', async () => {
    const mod = await loadCommand('version');
    const text = captureCli();
    expect(await mod.run([], text.ctx)).toBe(0);
    expect(text.stdout()).toMatch(/^ampio-bridge \d+\.\d+\.\d+\S* \(commit \S+, built \S+\)\nnode v\d+/);
    const json = captureCli();
    expect(await mod.run(['--json'], json.ctx)).toBe(0);
    expect(Object.keys(JSON.parse(json.stdout()))).toEqual(expect.arrayContaining(['version', 'commit', 'date', 'node']));
    const bad = captureCli();
    expect(await mod.run(['--jsn'], bad.ctx)).toBe(2);
    expect(bad.stderr()).toBe('ampio-bridge version: unknown flag --jsn (did you mean --json?)\n');
  });
});
