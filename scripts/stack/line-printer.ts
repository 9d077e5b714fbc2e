/**
 * Prints the lines of many processes, each prefixed with its source, as `docker compose up` does, in batches: the
 * lines that arrive within one turn of the event loop go out in a single write. At thousands of access-log lines a
 * second one write per line (console.log) made npm start the busiest process on the machine; a batch costs one
 * system call however many lines it holds. Order is kept: every line, whatever its source, goes through here.
 */
export class LinePrinter {
  private pending: string[] = [];
  private scheduled = false;

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  /** Queues `line` from `source`; it is written before the event loop next waits for I/O. */
  print(source: string, line: string): void {
    this.pending.push(`${source.padEnd(14)} | ${line}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes every queued line now (also what an exit handler calls, so no line is lost). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.write(text);
  }
}
