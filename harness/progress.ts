// Progress on long runs: runs done of runs asked for, commands per second, failures seen and
// an ETA. On a terminal one line redrawn in place (4 times a second); otherwise (CI logs) a
// plain line every `everyMs`. Reads counters only: it never changes what a run does.

export interface ProgressOptions {
  readonly total: number;
  readonly tty: boolean;
  /** Period of the plain lines when not on a terminal; 0 turns them off. */
  readonly everyMs: number;
  readonly write: (s: string) => void;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60),
    h = Math.floor(m / 60);
  return h ? `${h}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class Progress {
  private runs = 0;
  private commands = 0;
  private failures = 0;
  private label = '';
  private drawn = false;
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly o: ProgressOptions) {
    const period = o.tty ? 250 : o.everyMs;
    this.timer = period > 0 ? setInterval(() => this.draw(), period) : null;
    this.timer?.unref();
  }

  /** Runs and commands of the work finished before the current property. */
  private baseRuns = 0;
  private baseCommands = 0;

  start(label: string): void {
    this.label = label;
    this.baseRuns = this.runs;
    this.baseCommands = this.commands;
  }

  /** The current property's counters (as checkProperty's onRun reports them). */
  update(runs: number, commands: number, failed: boolean): void {
    this.runs = this.baseRuns + runs;
    this.commands = this.baseCommands + commands;
    if (failed) this.failures++;
  }

  /** The current property is done: count what it did even if it stopped early. */
  finish(runs: number, commands: number): void {
    this.runs = this.baseRuns + runs;
    this.commands = this.baseCommands + commands;
  }

  line(): string {
    const s = (performance.now() - this.started) / 1000;
    const rate = s > 0 ? this.commands / s : 0;
    const eta = this.runs > 0 ? (s * (this.o.total - this.runs)) / this.runs : Infinity;
    return `progress: ${this.runs}/${this.o.total} runs (${Math.floor((100 * this.runs) / Math.max(this.o.total, 1))}%), ${Math.round(rate)} commands/s, ${this.failures} failure${this.failures === 1 ? '' : 's'}, ETA ${clock(eta)}${this.label ? ` [${this.label}]` : ''}`;
  }

  private draw(): void {
    if (this.o.tty) {
      this.o.write(`\r\x1b[2K${this.line()}`);
      this.drawn = true;
    } else {
      // also before the first run ends: one scenario's schedules can take minutes (--explore on many CPUs)
      this.o.write(`  ${this.line()}\n`);
    }
  }

  /** Before printing anything else: take the live line off the terminal. */
  clear(): void {
    if (this.drawn) this.o.write('\r\x1b[2K');
    this.drawn = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}
