// socketcand message framing: a message runs from `<` to the next `>`, with no length prefix
// and no newline. TCP may cut a message anywhere (even one byte per read) and may put several
// messages in one read, so the tokenizer keeps the unfinished message between chunks.
// Upstream socketcand closes the connection when a command arrives split across two reads;
// we reassemble instead. Bytes between messages are skipped (whitespace silently; anything
// else is reported as garbage so it can be counted), and an unfinished message that grows
// past MAX_MESSAGE_LENGTH is reported as over-long: the session then closes, because a peer
// that never sends `>` would otherwise make us buffer without bound.

/**
 * Longest message accepted, in bytes between `<` and `>` inclusive. The longest command we
 * implement is `< add SEC USEC ID DLC B0 … B7 >` (about 70 bytes); upstream's own buffer is
 * 8290 bytes because of ISO-TP PDUs, which we do not implement. 1 KiB leaves room for
 * generous whitespace without letting a stream of junk pile up.
 */
export const MAX_MESSAGE_LENGTH = 1024;

export type TokenizerEvent =
  /** A whole message, as the whitespace-separated words between `<` and `>`. */
  | { kind: 'message'; words: string[]; text: string }
  /** Non-whitespace bytes outside any message (one event per run of such bytes). */
  | { kind: 'garbage'; bytes: number }
  /** A `<` arrived inside an unfinished message: the unfinished part is dropped. */
  | { kind: 'unterminated'; text: string }
  /** The unfinished message exceeded MAX_MESSAGE_LENGTH; the tokenizer stops. */
  | { kind: 'overlong'; length: number };

const LT = 0x3c;
const GT = 0x3e;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/** Splits the inside of a message on ASCII whitespace. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const w of text.split(/[ \t\r\n\v\f]+/)) if (w !== '') words.push(w);
  return words;
}

export class MessageTokenizer {
  /** Bytes of the unfinished message after its `<` (latin1: one char per byte). */
  private pending = '';
  private inMessage = false;
  private failed = false;

  /** True once an over-long message was seen: no further input is processed. */
  get stopped(): boolean {
    return this.failed;
  }

  /** Bytes held for an unfinished message. */
  get buffered(): number {
    return this.inMessage ? this.pending.length + 1 : 0;
  }

  /** Feeds bytes split anywhere; returns the events they complete, in order. */
  push(chunk: Uint8Array): TokenizerEvent[] {
    const events: TokenizerEvent[] = [];
    if (this.failed) return events;
    let start = -1; // start (after `<`) of the message being read in this chunk
    // A garbage run that continues from the previous chunk is reported again (bytes add up).
    let garbage: { kind: 'garbage'; bytes: number } | null = null;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (!this.inMessage) {
        if (b === LT) {
          this.inMessage = true;
          garbage = null;
          this.pending = '';
          start = i + 1;
        } else if (!isSpace(b)) {
          if (garbage === null) {
            garbage = { kind: 'garbage', bytes: 0 };
            events.push(garbage);
          }
          garbage.bytes++;
        } else {
          garbage = null;
        }
        continue;
      }
      if (b === GT || b === LT) {
        const text = this.pending + latin1(chunk, Math.max(start, 0), i);
        this.pending = '';
        if (b === GT) {
          this.inMessage = false;
          start = -1;
          if (text.length + 2 > MAX_MESSAGE_LENGTH) return this.fail(events, text.length + 2);
          events.push({ kind: 'message', words: splitWords(text), text });
        } else {
          // A new `<` restarts framing: the cut-off message before it is dropped.
          events.push({ kind: 'unterminated', text });
          start = i + 1;
        }
        continue;
      }
      if (start < 0) start = i;
    }
    if (this.inMessage) {
      if (start >= 0) this.pending += latin1(chunk, start, chunk.length);
      if (this.pending.length + 1 > MAX_MESSAGE_LENGTH) return this.fail(events, this.pending.length + 1);
    }
    return events;
  }

  private fail(events: TokenizerEvent[], length: number): TokenizerEvent[] {
    this.failed = true;
    this.pending = '';
    this.inMessage = false;
    events.push({ kind: 'overlong', length });
    return events;
  }
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  if (to <= from) return '';
  // latin1 keeps one char per byte whatever the input (TextDecoder's 'latin1' is windows-1252).
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}
