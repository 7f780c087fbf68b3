// One bounded NDJSON line splitter for both ends of the control socket. node:readline has
// no maximum line length, and a peer that never sends a newline must not grow a buffer
// without bound.

export class LineReader {
  private buffer = '';

  constructor(private readonly maxLine: number) {}

  /**
   * Appends a chunk and returns the complete lines in it (blank lines skipped).
   * `tooLong` is set when a line, complete or still open, exceeds the bound; the lines
   * before it are still returned, and the caller should close the connection.
   */
  push(chunk: string): { lines: string[]; tooLong: boolean } {
    this.buffer += chunk;
    const lines: string[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > this.maxLine) return { lines, tooLong: true };
      if (line.trim() !== '') lines.push(line);
    }
    return { lines, tooLong: this.buffer.length > this.maxLine };
  }
}
