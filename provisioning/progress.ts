// Progress lines while apply runs: a spinner on a terminal, plain [✓]/[✗] lines otherwise
// (journals, CI, pipes). Hand-written: one interval, one line rewritten in place.

import type { Writable } from 'node:stream';
import { markFor, type Style } from './show.js';
import type { Step } from './types.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  private current = '';

  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
    private readonly style: Style,
  ) {}

  start(step: Step, i: number, total: number): void {
    this.current = `(${i + 1}/${total}) ${step.title}`;
    if (!this.tty) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), 80);
  }

  private draw(): void {
    this.out.write(`\r\u001b[2K  ${FRAMES[this.frame++ % FRAMES.length]} ${this.current}`);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty) this.out.write('\r\u001b[2K');
  }

  done(): void {
    this.stop();
    this.out.write(`  ${markFor(this.style, 'ok')} ${this.current}\n`);
  }

  fail(): void {
    this.stop();
    this.out.write(`  ${markFor(this.style, 'fail')} ${this.current}\n`);
  }
}
