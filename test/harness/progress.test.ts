// The progress line: on a terminal one line redrawn in place, otherwise plain periodic lines.
import { describe, expect, it } from 'vitest';
import { Progress } from '../../harness/progress.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Progress', () => {
  it('on a terminal: one live line redrawn in place, cleared before other output', async () => {
    const out: string[] = [];
    const p = new Progress({ total: 200, tty: true, everyMs: 0, write: (s) => out.push(s) });
    p.start('update-contract');
    p.update(50, 600, false);
    p.update(51, 610, true);
    await sleep(300);
    p.clear();
    p.stop();
    const drawn = out.filter((s) => s.startsWith('\r\x1b[2Kprogress:'));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.at(-1)).toMatch(/^\r\x1b\[2Kprogress: 51\/200 runs \(25%\), \d+ commands\/s, 1 failure, ETA \d+:\d\d \[update-contract\]$/);
    expect(out.at(-1)).toBe('\r\x1b[2K');
    expect(out.join('')).not.toContain('\n');
  });

  it('otherwise: plain lines, one per period, counting finished properties in', async () => {
    const out: string[] = [];
    const p = new Progress({ total: 200, tty: false, everyMs: 100, write: (s) => out.push(s) });
    p.start('a');
    p.update(100, 1000, false);
    p.finish(100, 1000);
    p.start('b');
    p.update(20, 100, false);
    await sleep(250);
    p.stop();
    expect(out.length).toBeGreaterThan(0);
    for (const l of out) expect(l).toMatch(/^ {2}progress: 120\/200 runs \(60%\), \d+ commands\/s, 0 failures, ETA \d+:\d\d \[b\]\n$/);
  });

  it('prints nothing at all with period 0 off a terminal', async () => {
    const out: string[] = [];
    const quiet = new Progress({ total: 10, tty: false, everyMs: 0, write: (s) => out.push(s) });
    quiet.update(5, 5, false);
    await sleep(150);
    quiet.stop();
    expect(out).toEqual([]);
  });

  it('says it is working before the first run ends too: one scenario of --explore on many CPUs can take minutes', async () => {
    const out: string[] = [];
    const early = new Progress({ total: 10, tty: false, everyMs: 50, write: (s) => out.push(s) });
    early.start('update-contract');
    await sleep(150);
    early.stop();
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]).toMatch(/^ {2}progress: 0\/10 runs \(0%\), 0 commands\/s, 0 failures, ETA \? \[update-contract\]\n$/);
  });
});
