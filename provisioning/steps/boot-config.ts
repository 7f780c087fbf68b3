// config.txt editing. Our lines live in one marked block that starts with
// its own `[all]`, re-rendered whole on every run, so it never depends on whichever
// `[cm4]`/`[pi5]` filter happens to precede the end of the file (DeskPi #205), never
// duplicates (raspiblitz PR #1280) and never glues onto an unterminated last line
// (pimoroni/hyperpixel4 PR #11). Old hand-written CAN overlay lines elsewhere in the file
// would load the same chips twice, so they are commented out with a marker that
// `--uninstall` reverses.

export const BLOCK_BEGIN = '# >>> ampio-bridge >>>';
export const BLOCK_END = '# <<< ampio-bridge <<<';
/** Prefix for lines we disabled; uninstall removes it again. */
export const DISABLED_PREFIX = '#ampio-bridge disabled# ';

export class BootConfigError extends Error {
  readonly code = 'BOOT_CONFIG_UNSAFE';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface BootLine {
  /** 0-based line index */
  index: number;
  text: string;
  /** The [filter] in force for this line ('all' at the top of the file). */
  section: string;
  inBlock: boolean;
}

export interface BootConfigAnalysis {
  lines: BootLine[];
  hasBlock: boolean;
  /** Board id recorded in our block, if any. */
  blockBoard: string | null;
  /** Effective (non-comment) lines of our block, without the [all] header. */
  blockLines: string[];
  /** CAN-related overlay lines outside our block (they would clash with ours). */
  conflicting: BootLine[];
  /** Lines worth a word (legacy, deprecated or clashing overlays), with the reason. */
  remarks: { line: BootLine; text: string }[];
  endsWithNewline: boolean;
}

// spi-bcm2835(-overlay) is not here: it is no CAN overlay and loads no chip, so it is only
// mentioned (a remark), never commented out as if it clashed with ours.
const CONFLICT_RE = /^\s*dtoverlay=(mcp251[5x][\w-]*|spi0-hw-cs)\b/;

/**
 * The line ending a file uses: a config.txt edited on Windows (common on the FAT boot
 * partition) keeps its CRLF; rewriting it as LF would be an unasked-for whole-file change.
 */
export function lineEnding(content: string): '\r\n' | '\n' {
  const crlf = (content.match(/\r\n/g) ?? []).length;
  const lf = (content.match(/\n/g) ?? []).length;
  return crlf > 0 && crlf * 2 >= lf ? '\r\n' : '\n';
}

export function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function analyzeBootConfig(content: string): BootConfigAnalysis {
  const raw = splitLines(content.replace(/\r\n/g, '\n'));
  const lines: BootLine[] = [];
  let section = 'all';
  let inBlock = false;
  let begin = -1;
  let end = -1;
  for (const [index, text] of raw.entries()) {
    const t = text.trim();
    if (t.startsWith(BLOCK_BEGIN)) {
      if (begin >= 0)
        throw new BootConfigError(
          'config.txt has two ampio-bridge blocks',
          'delete one of the "# >>> ampio-bridge >>>" … "# <<< ampio-bridge <<<" blocks, then re-run setup',
        );
      begin = index;
      inBlock = true;
    }
    const sec = /^\[([^\]]+)\]/.exec(t);
    if (sec) section = sec[1].trim();
    lines.push({ index, text, section, inBlock });
    if (t.startsWith(BLOCK_END)) {
      if (!inBlock)
        throw new BootConfigError(
          'config.txt has an ampio-bridge end marker without a start marker',
          'delete the stray "# <<< ampio-bridge <<<" line, then re-run setup',
        );
      end = index;
      inBlock = false;
    }
  }
  if (inBlock)
    throw new BootConfigError(
      'config.txt has an ampio-bridge start marker but no end marker',
      'add "# <<< ampio-bridge <<<" after our lines or delete the block, then re-run setup',
    );
  const blockRaw = begin >= 0 ? lines.slice(begin + 1, end).map((l) => l.text.trim()) : [];
  const boardLine = blockRaw.find((l) => l.startsWith('# board: '));
  const conflicting = lines.filter((l) => !l.inBlock && CONFLICT_RE.test(l.text));
  const remarks: { line: BootLine; text: string }[] = [];
  for (const l of lines) {
    const t = l.text.trim();
    if (/^dtoverlay=spi-bcm2835/.test(t))
      remarks.push({
        line: l,
        text: 'spi-bcm2835-overlay is not a CAN overlay and does nothing useful on current kernels (old Waveshare/go-ampio-server guide); left as it is, you may delete it',
      });
    else if (/^dtoverlay=spi0-hw-cs/.test(t)) remarks.push({ line: l, text: 'spi0-hw-cs is deprecated and has been seen to stop spi0 working' });
    else if (/^dtoverlay=[^,\s]+-overlay\b/.test(t)) remarks.push({ line: l, text: 'the -overlay suffix no longer works (redragonx/can2RNET#5)' });
    else if (!l.inBlock && /^dtoverlay=mcp251/.test(t) && l.section !== 'all') remarks.push({ line: l, text: `applies only under [${l.section}]` });
  }
  return {
    lines,
    hasBlock: begin >= 0,
    blockBoard: boardLine ? boardLine.slice('# board: '.length).split(' ')[0] : null,
    blockLines: blockRaw.filter((l) => l !== '' && !l.startsWith('#') && l !== '[all]'),
    conflicting,
    remarks,
    endsWithNewline: content === '' || content.endsWith('\n'),
  };
}

export interface BlockSpec {
  version: string;
  boardId: string;
  boardName: string;
  verified: boolean;
  lines: string[];
}

export function renderBlock(spec: BlockSpec): string[] {
  return [
    `${BLOCK_BEGIN} managed by ampio-bridge setup, version ${spec.version}; re-run setup to change`,
    `# board: ${spec.boardId} (${spec.boardName}${spec.verified ? '' : ', lines not verified'})`,
    '[all]',
    ...spec.lines,
    BLOCK_END,
  ];
}

/** The new config.txt: our block rendered in place (or appended), clashing lines disabled. */
export function renderBootConfig(content: string, spec: BlockSpec): string {
  const a = analyzeBootConfig(content);
  const conflict = new Set(a.conflicting.map((l) => l.index));
  const block = renderBlock(spec);
  const out: string[] = [];
  let placed = false;
  for (const l of a.lines) {
    if (l.inBlock) {
      if (!placed) out.push(...block);
      placed = true;
      continue;
    }
    if (l.text.trim().startsWith(BLOCK_END)) continue;
    out.push(conflict.has(l.index) ? DISABLED_PREFIX + l.text : l.text);
  }
  if (!placed) {
    // A blank line between the stock file and our block, unless there is one already.
    if (out.length && out[out.length - 1].trim() !== '') out.push('');
    out.push(...block);
  }
  const eol = lineEnding(content);
  return `${out.join(eol)}${eol}`;
}

/** config.txt without our block and with the lines we disabled restored (uninstall). */
export function removeBootBlock(content: string): string {
  const a = analyzeBootConfig(content);
  const out: string[] = [];
  for (const l of a.lines) {
    if (l.inBlock || l.text.trim().startsWith(BLOCK_END)) continue;
    out.push(l.text.startsWith(DISABLED_PREFIX) ? l.text.slice(DISABLED_PREFIX.length) : l.text);
  }
  while (out.length && out[out.length - 1].trim() === '') out.pop();
  const eol = lineEnding(content);
  return out.length ? `${out.join(eol)}${eol}` : '';
}

/**
 * The lines the firmware acts on, with their filter, sorted: comparing these before and
 * after tells whether a change needs a reboot. A new version string in our header does not,
 * nor does moving the same lines into our block or dropping spi-bcm2835-overlay, which
 * loads nothing on current kernels.
 */
export function effectiveBootLines(content: string | null): string[] {
  if (content === null) return [];
  let section = 'all';
  const out: string[] = [];
  for (const line of splitLines(content.replace(/\r\n/g, '\n'))) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const sec = /^\[([^\]]+)\]/.exec(t);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    if (/^dtoverlay=spi-bcm2835(-overlay)?$/.test(t)) continue;
    out.push(`[${section}] ${t}`);
  }
  return [...new Set(out)].sort();
}

/** The Bookworm stub at /boot/config.txt that says the real file moved. */
export function isBootConfigStub(content: string): boolean {
  return /DO NOT EDIT THIS FILE/i.test(content) && /\/boot\/firmware\/config\.txt/.test(content);
}
