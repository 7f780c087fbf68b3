// The bus checks of `doctor`: for SocketCAN the boot config, overlay, kernel log, the link and
// its networkd files; for a serial backend the adapter.

import { findBoard, lintOverlayLines, type Catalog } from './catalog.js';
import { errnoMeaning, iniValue, parseDmesg, parseIpLinkJson, type CanLinkDetails } from './diagnose.js';
import type { Fs } from './io/fs.js';
import type { Runner } from './io/runner.js';
import { analyzeBootConfig, effectiveBootLines, isBootConfigStub } from './steps/boot-config.js';
import type { Check, ConfigVerdict } from './doctor-files.js';
import { rcvbufCheck } from './doctor-rcvbuf.js';
import { PATHS } from './types.js';
import { parseDuration } from '../src/config/options.js';

async function run(runner: Runner, argv: string[]): Promise<string | null> {
  try {
    const r = await runner.run(argv, { timeoutMs: 15_000 });
    return r.exitCode === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

export async function busChecks(
  d: { fs: Fs; runner: Runner; catalog: Catalog },
  verdict: ConfigVerdict | null,
  backend: string,
  ifaces: string[],
  live: boolean,
  add: (c: Check) => void,
  skip: (id: string, title: string) => void,
): Promise<void> {
  if (backend === 'socketcan') {
    // --- boot config: our block, and the lines in it
    const bootPath = (await d.fs.stat('/boot/firmware/config.txt')) ? '/boot/firmware/config.txt' : '/boot/config.txt';
    const boot = await d.fs.readText(bootPath);
    let boardId: string | null = null;
    if (boot === null || isBootConfigStub(boot)) {
      add({
        id: 'overlay',
        status: 'fail',
        title: 'CAN HAT overlay in config.txt',
        detail: `no usable ${bootPath}`,
        fix: 'is the boot partition mounted at /boot/firmware?',
      });
    } else {
      const a = analyzeBootConfig(boot);
      boardId = a.blockBoard;
      const board = boardId ? findBoard(d.catalog, boardId) : undefined;
      const problems = lintOverlayLines(
        effectiveBootLines(boot)
          .filter((l) => l.startsWith('[all] '))
          .map((l) => l.slice(6)),
      );
      if (!a.hasBlock)
        add({
          id: 'overlay',
          status: 'fail',
          title: `CAN HAT overlay in ${bootPath}`,
          detail: 'no ampio-bridge block',
          fix: 'run `sudo ampio-bridge setup` and choose your HAT',
        });
      else if (problems.length)
        add({
          id: 'overlay',
          status: 'fail',
          title: `CAN HAT overlay in ${bootPath}`,
          detail: problems.join('; '),
          fix: 're-run `sudo ampio-bridge setup`; it comments out clashing lines',
        });
      else
        add({
          id: 'overlay',
          status: 'ok',
          title: `CAN HAT overlay in ${bootPath}`,
          detail: board ? `${board.name}${board.verified ? '' : ' (lines not verified)'}` : (boardId ?? undefined),
        });
      if (a.remarks.length)
        add({
          id: 'overlay-remarks',
          status: 'warn',
          title: 'config.txt lines worth a look',
          detail: a.remarks.map((r) => `line ${r.line.index + 1}: ${r.text}`).join('; '),
        });
      const spiOn = effectiveBootLines(boot).some((l) => l === '[all] dtparam=spi=on');
      const spiDevs = live ? ((await d.fs.readdir('/sys/bus/spi/devices')) ?? []) : [];
      if (spiOn && !live) add({ id: 'spi', status: 'ok', title: 'SPI enabled', detail: 'dtparam=spi=on (devices not checked offline)' });
      else if (spiOn && spiDevs.length) add({ id: 'spi', status: 'ok', title: 'SPI enabled', detail: spiDevs.join(', ') });
      else if (spiOn)
        add({
          id: 'spi',
          status: 'fail',
          title: 'SPI enabled',
          detail: 'dtparam=spi=on is set but no SPI devices exist',
          fix: 'reboot; if it stays, check for dtparam=spi=off or a clashing overlay',
        });
      else add({ id: 'spi', status: 'fail', title: 'SPI enabled', detail: 'dtparam=spi=on is not set under [all]', fix: 're-run `sudo ampio-bridge setup`' });
    }
    if (live && (await d.fs.lstat(PATHS.rebootMarker))) {
      add({
        id: 'reboot',
        status: 'fail',
        title: 'overlays loaded',
        detail: 'setup changed config.txt and the Pi has not rebooted since',
        fix: '`sudo reboot`, then `ampio-bridge doctor` again',
      });
    }

    // --- the kernel's view: did each chip initialise?
    const board = boardId ? findBoard(d.catalog, boardId) : undefined;
    const dmesg = !live ? undefined : ((await run(d.runner, ['dmesg'])) ?? (await run(d.runner, ['journalctl', '-k', '-b', '--no-pager'])));
    if (dmesg === undefined) skip('dmesg', 'CAN controller initialisation (dmesg)');
    else if (dmesg === null)
      add({ id: 'dmesg', status: 'warn', title: 'CAN controller initialisation (dmesg)', detail: 'cannot read the kernel log', fix: 'run doctor with sudo' });
    else {
      const chips = parseDmesg(dmesg);
      const expected = board?.interfaces.map((i) => i.spi) ?? chips.map((c) => c.spi);
      if (!chips.length)
        add({
          id: 'dmesg',
          status: 'warn',
          title: 'CAN controller initialisation (dmesg)',
          detail: 'no mcp251x messages in the kernel log (rotated, or the overlay never loaded)',
          fix: 'after a reboot, `dmesg | grep -i mcp251`',
        });
      for (const spi of expected) {
        const c = chips.find((x) => x.spi === spi);
        if (!c) continue;
        if (c.ok) add({ id: `chip-${spi}`, status: 'ok', title: `controller on ${spi} initialised`, detail: c.iface ? `as ${c.iface}` : undefined });
        else {
          const m = errnoMeaning(c.errno ?? 0);
          add({ id: `chip-${spi}`, status: 'fail', title: `controller on ${spi} initialised`, detail: `${c.detail} (${m.name}: ${m.meaning})`, fix: m.fix });
        }
      }
    }

    // --- the links: present, up, bitrate, restart-ms, txqueuelen, state
    const network = await d.fs.readText(PATHS.network);
    const link = await d.fs.readText(PATHS.link);
    const rule = await d.fs.readText(PATHS.udevRule);
    const wantBitrate = Number(iniValue(network, 'CAN', 'BitRate') ?? (verdict?.ok ? verdict.bitrate : null) ?? 50000);
    const restartRaw = iniValue(network, 'CAN', 'RestartSec');
    const wantRestart = restartRaw ? (/^\d+$/.test(restartRaw) ? Number(restartRaw) * 1000 : parseDuration(restartRaw)) : 100;
    const wantQlen = Number(iniValue(link, 'Link', 'TransmitQueueLength') ?? /tx_queue_len}="(\d+)"/.exec(rule ?? '')?.[1] ?? 100);
    const ipOut = !live ? undefined : await run(d.runner, ['ip', '-details', '-statistics', '-json', 'link', 'show', 'type', 'can']);
    let links: CanLinkDetails[] | null = null;
    try {
      links = ipOut === null || ipOut === undefined ? null : parseIpLinkJson(ipOut);
    } catch {
      links = null;
    }
    if (ipOut === undefined) skip('links', `CAN interfaces ${ifaces.join(', ')} (present, up, bitrate, restart-ms, txqueuelen, state)`);
    else if (links === null) add({ id: 'links', status: 'warn', title: 'CAN interfaces', detail: '`ip -details -json link` did not answer' });
    for (const name of links ? ifaces : []) {
      const l = (links as CanLinkDetails[]).find((x) => x.name === name);
      if (!l) {
        add({
          id: `${name}-present`,
          status: 'fail',
          title: `${name} present`,
          detail: 'no such interface',
          fix: 'the overlay did not create it: see the controller lines above, or reboot after setup',
        });
        continue;
      }
      const map = board?.interfaces.find((i) => i.name === name);
      const wrongSpi = map && l.parentDev && map.spi !== l.parentDev;
      add({
        id: `${name}-present`,
        status: wrongSpi ? 'warn' : 'ok',
        title: `${name} present`,
        detail: `${l.parentDev ?? '?'}${map && !wrongSpi && map.connector !== 'unverified' ? `, connector ${map.connector}` : ''}${wrongSpi ? `: the catalog expects ${map.spi}; the names may be swapped (probe order is not fixed: map them by their SPI device)` : ''}`,
      });
      const up = l.state === 'UP' || l.flags.includes('UP');
      add(
        up
          ? { id: `${name}-up`, status: 'ok', title: `${name} up` }
          : {
              id: `${name}-up`,
              status: 'fail',
              title: `${name} up`,
              detail: `state ${l.state}`,
              fix: `\`sudo networkctl reconfigure ${name}\` (is systemd-networkd enabled?) or \`sudo ip link set ${name} up\``,
            },
      );
      add(
        l.bitrate === wantBitrate
          ? { id: `${name}-bitrate`, status: 'ok', title: `${name} bitrate ${wantBitrate}` }
          : {
              id: `${name}-bitrate`,
              status: 'fail',
              title: `${name} bitrate ${wantBitrate}`,
              detail: `the link has ${l.bitrate ?? 'none'}`,
              fix: `\`sudo ip link set ${name} down && sudo networkctl reconfigure ${name}\`, or re-run setup`,
            },
      );
      if (l.restartMs === wantRestart && wantRestart > 0) add({ id: `${name}-restart`, status: 'ok', title: `${name} restart-ms ${wantRestart}` });
      else
        add({
          id: `${name}-restart`,
          status: l.restartMs === 0 ? 'fail' : 'warn',
          title: `${name} restart-ms ${wantRestart}`,
          detail: `the link has ${l.restartMs ?? 'none'}${l.restartMs === 0 ? ': a bus-off stops the bus until someone intervenes' : ''}`,
          fix: `\`sudo ip link set ${name} down; sudo ip link set ${name} type can restart-ms ${wantRestart}; sudo ip link set ${name} up\``,
        });
      add(
        l.qlen === wantQlen
          ? { id: `${name}-qlen`, status: 'ok', title: `${name} txqueuelen ${wantQlen}` }
          : {
              id: `${name}-qlen`,
              status: 'fail',
              title: `${name} txqueuelen ${wantQlen}`,
              detail: `the link has ${l.qlen ?? '?'}${(l.qlen ?? 0) > 100 ? ' (replays stale commands after an outage)' : (l.qlen ?? 0) < 100 ? ' (ENOBUFS on a burst)' : ''}`,
              fix: `\`sudo ip link set ${name} txqueuelen ${wantQlen}\`; the .link file applies it at the next boot`,
            },
      );
      if (board?.oscillator && l.clock && board.driver === 'mcp251x' && l.clock * 2 !== board.oscillator) {
        add({
          id: `${name}-clock`,
          status: 'fail',
          title: `${name} oscillator`,
          detail: `the driver reports clock ${l.clock} (crystal ${l.clock * 2} Hz), the board has ${board.oscillator} Hz`,
          fix: 'choose the right board/crystal in setup, then reboot',
        });
      }
      const st = (l.canState ?? '').toUpperCase();
      if (st === 'ERROR-ACTIVE') add({ id: `${name}-state`, status: 'ok', title: `${name} bus state`, detail: 'ERROR-ACTIVE' });
      else if (st === 'BUS-OFF')
        add({
          id: `${name}-state`,
          status: 'fail',
          title: `${name} bus state`,
          detail: 'BUS-OFF',
          fix: 'check termination (120 Ω at both ends), CAN-H/CAN-L swapped, the bitrate, and that another node is there to ACK',
        });
      else if (st)
        add({ id: `${name}-state`, status: 'warn', title: `${name} bus state`, detail: st, fix: 'bus errors: check wiring, termination and the bitrate' });
    }
    // --- what the kernel lets the unprivileged service have of its --can-rcvbuf
    if (verdict?.ok) add(await rcvbufCheck(d.fs, verdict.canRcvbuf, live));
  } else {
    const dev = verdict?.ok ? verdict.serial : '/dev/ttyUSB0';
    if (!live) skip('serial', `serial adapter ${dev}`);
    else
      add(
        (await d.fs.stat(dev))
          ? { id: 'serial', status: 'ok', title: `serial adapter ${dev}` }
          : {
              id: 'serial',
              status: 'fail',
              title: `serial adapter ${dev}`,
              detail: 'not present',
              fix: 'plug the adapter in; `ls -l /dev/serial/by-id/` shows its stable name',
            },
      );
  }
}
