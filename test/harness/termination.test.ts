// The runner never hangs (issue 15): a task that keeps emitting trace events without progress is
// a livelock, and every scenario has a bound on its steps; both are reported as I-6.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { TDH } from '../../impl/firmware/abi.ts';
import type { Host, TraceEvent } from '../../impl/host.ts';
import { spawn } from '../../impl/kernel/sched.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { hostData, readVersion, scenario, upload } from '../impl/kernel/helpers.ts';

/** An observer that, once, starts a task emitting `event` at every step, forever. */
function rogue(event: TraceEvent): (step: number, h: Host) => void {
  let started = false;
  return (_step, h) => {
    if (started) return;
    started = true;
    spawn(
      h.sched,
      'rogue',
      1,
      (function* () {
        for (;;) {
          h.trace.push(event);
          yield { kind: 'step' as const };
        }
      })(),
    );
  };
}

/** An observer that ends every command's task after its first step, as if it never returned. */
function cutShort(_step: number, h: Host): void {
  for (const t of h.sched.tasks.filter((x) => x.name.startsWith('cmd'))) t.done = true;
  h.sched.tasks = h.sched.tasks.filter((x) => !x.done);
  h.sched.runQueue = h.sched.runQueue.filter((x) => !x.done);
}

describe('the runner never hangs', () => {
  it('a command whose task ends without returning is no response: reported as I-6, not a pass', () => {
    const s = scenario(hostData(2), [upload(), readVersion]);
    expect(runScenario(s, { revision: V2, bugs: NO_BUGS }).violation).toBeNull();
    const r = runScenario(s, { revision: V2, bugs: NO_BUGS, observe: cutShort });
    expect(r.violation).toMatchObject({ id: 'I-6', message: expect.stringMatching(/^no response to 1\. upload\(.*\): its task ended without returning$/) });
  });

  it('SEAMCALLs again and again are no progress: a livelock, reported as I-6', () => {
    const rd: TraceEvent = { kind: 'seamcall', cpu: 1, task: 'rogue', leaf: TDH.SYS_RD, rcx: 0n, status: 0n };
    const r = runScenario(scenario(hostData(2), [readVersion]), { revision: V2, bugs: NO_BUGS, observe: rogue(rd) });
    expect(r.violation).toMatchObject({ id: 'I-6', message: expect.stringMatching(/^livelock: \d+ steps without progress/) });
    expect(r.steps).toBeLessThan(1_000);
  });

  it('a run that keeps making progress still ends at its step bound, reported as I-6', () => {
    const r = runScenario(scenario(hostData(2), [readVersion]), { revision: V2, bugs: NO_BUGS, observe: rogue({ kind: 'state', state: 'SHUTDOWN' }) });
    expect(r.violation).toMatchObject({ id: 'I-6', message: expect.stringMatching(/did not end within 12\d{3} steps/) });
  });
});
