/**
 * A one-line progress bar on stderr, redrawn at most ~10 times a second, and only on a
 * terminal: piped output (CI, `--json`) gets no control characters.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(private readonly total: number, private readonly label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.enabled = stream.isTTY === true;
  }

  private readonly stream: NodeJS.WriteStream;

  update(done: number, suffix = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((width * done) / Math.max(1, this.total));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.stream.write(`\r${this.label} ${bar} ${done}/${this.total} ${suffix}\x1b[K`);
  }

  finish(message = ''): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[K${message}`);
  }
}
