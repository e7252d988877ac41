// Each seeded bug of impl/faults.ts (spec §8) that the kernel layers carry, reproduced by a
// minimal scenario: with the bug on, runScenario reports the named violation; with it off, the
// same scenario (same schedule) passes.
import { describe, expect, it } from 'vitest';
import type { BugName } from '../../impl/faults.ts';
import { P_SEAMLDR_INSTALL, TDH, TDX_SYS_BUSY } from '../../impl/firmware/abi.ts';
import { imageBytes } from '../../properties/images.ts';
import { type Revision } from '../../impl/kernel/revision.ts';
import { V2_KERNEL as V2 } from '../../properties/revisions/index.ts';
import type { Command } from '../../properties/commands/index.ts';
import type { HostData } from '../../properties/scenario.ts';
import {
  acks,
  boot,
  cancel,
  callsOf,
  corrupt,
  events,
  hostData,
  imageRef,
  install,
  linResults,
  offline,
  prefer,
  run,
  runTasks,
  scenario,
  states,
  upload,
  type Picker,
} from '../impl/kernel/helpers.ts';

/** CPU 0 acts last in SHUTDOWN: choice 1 never picks the least recently run stopper (stopper/0). */
const LEAD_LAST = Array<number>(8).fill(1);
const NO_PRECHECK: Revision = { ...V2, cpuOnlinePrecheck: false };
const shutdownFails = upload(imageRef(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null });

interface BugCase {
  bug: BugName;
  catalogId: string;
  host: HostData;
  commands: Command[];
  schedule: number[];
  rev?: Revision;
  violation: string;
  message: RegExp;
}

const CASES: BugCase[] = [
  {
    bug: 'ack-before-fail',
    catalogId: 'B2',
    host: hostData(2),
    commands: [shutdownFails],
    schedule: LEAD_LAST,
    violation: 'I-5',
    message: /^state moved to CPU_INSTALL although a CPU failed SHUTDOWN$/,
  },
  {
    bug: 'no-early-abort',
    catalogId: 'B5',
    host: hostData(1),
    commands: [shutdownFails],
    schedule: [],
    violation: 'I-5',
    message: /^state moved to CPU_INSTALL although a CPU failed SHUTDOWN$/,
  },
  {
    bug: 'stale-handoff-hv',
    catalogId: 'B9',
    host: hostData(1),
    commands: [upload(imageRef('1.5.08', { moduleHv: 1 }))],
    schedule: [],
    violation: 'refinement',
    message: /handoff hv/,
  },
  {
    bug: 'header-before-size',
    catalogId: 'B13',
    host: hostData(1),
    commands: [upload(corrupt({ kind: 'truncate', length: 1 }))],
    schedule: [],
    violation: 'I-15',
    message: /^the kernel read image byte 0 of a 1-byte image$/,
  },
  {
    bug: 'sticky-cancel',
    catalogId: 'B20',
    host: hostData(1),
    commands: [cancel, upload()],
    schedule: [],
    violation: 'result',
    message: /^fw_prepare returned "user-abort"; the contract allows "none"/,
  },
  {
    bug: 'run-update-int-truncation',
    catalogId: 'v2-p19',
    host: hostData(1),
    commands: [upload(imageRef(), { kind: 'leaf', leaf: 'UPDATE', cpu: null })],
    schedule: [],
    violation: 'I-9',
    message: /^initialized but the module is SYSINIT_DONE$/,
  },
];

describe('seeded bugs: minimal scenarios', () => {
  it.each(CASES.map((c) => [`${c.bug} (${c.catalogId})`, c] as const))('%s is caught, and the scenario passes without it', (_, c) => {
    const s = scenario(c.host, c.commands, c.schedule);
    const on = run(s, { rev: c.rev, bugs: [c.bug] });
    expect(on.violation?.id).toBe(c.violation);
    expect(on.violation?.message).toMatch(c.message);
    const off = run(s, { rev: c.rev });
    expect(off.violation).toBeNull();
  });

  it('stale-handoff-hv: the kernel keeps handoff version 0 where the model (and module) moved to 1', () => {
    const on = run(scenario(hostData(1), [upload(imageRef('1.5.08', { moduleHv: 1 }))]), { bugs: ['stale-handoff-hv'] });
    expect(on.violation?.diff).toEqual([{ field: 'handoff hv', impl: '0', model: '1' }]);
  });

  it('sticky-cancel also shows in `error`: preparing:user-abort, and I-24 agrees it is wrong', () => {
    const on = run(scenario(hostData(1), [cancel, upload()]), { bugs: ['sticky-cancel'] });
    runTasks(on.host); // let the worker finish after the harness stopped at the violation
    expect(on.host.tdxHost.fw!.errProgress + ':' + on.host.tdxHost.fw!.errCode).toBe('preparing:user-abort');
    expect(linResults(on.host, 'update')).toEqual([]);
  });

  describe('ack-before-fail (B2) in detail', () => {
    it('after the state moved, CPU 1 really calls SEAMLDR.INSTALL and the old module becomes unreachable', () => {
      const on = run(scenario(hostData(2), [shutdownFails], LEAD_LAST), { bugs: ['ack-before-fail'] });
      expect(on.violation?.id).toBe('I-5');
      // Carry on past the violation with CPU 1 first, as in Sagi's report: it sees CPU_INSTALL
      // before the lead has recorded its failure.
      const h = on.host;
      runTasks(h, (tasks) => (callsOf(h.trace, P_SEAMLDR_INSTALL).length === 0 && tasks.find((t) => t.name === 'stopper/1')) || tasks[0]!);
      expect(callsOf(on.host.trace, P_SEAMLDR_INSTALL).map((e) => e.cpu)).toEqual([1]);
      expect(on.host.seam.seamReady).toBe(false);
      expect(on.host.seam.module!.sysState).toBe('SYS_READY'); // never shut down, yet lost
      expect(events(on.host.trace, 'update_end')).toEqual([{ kind: 'update_end', ret: -5, state: 'CPU_INSTALL' }]);
      expect(on.host.tdx.state.initialized).toBe(true); // and the kernel does not know (I-9)
    });

    it('it does not need the lead to ack last: the lead acks first, CPU 1 acks before the failure is recorded', () => {
      // Round-robin no longer shows it: ack_state holds update_ctrl.lock across a step, so the
      // lead usually records its failure while CPU 1 waits for the lock. CPU 1 must overtake it.
      const h = boot(2, { bugs: ['ack-before-fail'] });
      const leadFirst: Picker = (tasks, step) => {
        const phase = acks(h.trace, 'SHUTDOWN').length === 0 ? 'stopper/0' : states(h.trace).length === 0 ? 'stopper/1' : null;
        return phase ? prefer(phase)(tasks, step) : tasks[0]!;
      };
      install(h, imageBytes(imageRef()), { faults: { leafFail: { leaf: TDH.SYS_SHUTDOWN, cpu: null, status: TDX_SYS_BUSY } }, pick: leadFirst });
      expect(acks(h.trace, 'SHUTDOWN')).toEqual([
        { cpu: 0, ret: -5 },
        { cpu: 1, ret: 0 },
      ]);
      expect(states(h.trace)[0]).toBe('CPU_INSTALL'); // I-5: past a failed SHUTDOWN
    });

    it('with one CPU the state still moves past the failure (I-5), though no CPU is left to install', () => {
      const on = run(scenario(hostData(1), [shutdownFails]), { bugs: ['ack-before-fail'] });
      expect(on.violation?.id).toBe('I-5');
      runTasks(on.host);
      expect(callsOf(on.host.trace, P_SEAMLDR_INSTALL)).toEqual([]);
      expect(on.host.seam.seamReady).toBe(true);
    });
  });

  describe('hotplug-before-lock (B4)', () => {
    const commands = [upload(), offline(1)];
    /**
     * The cpu_offline must run between the worker's count of online CPUs and its
     * cpus_read_lock. Schedules [0, 0, 1 x k, 2] keep the worker running (choice 1 is the most
     * recently run task) for k steps and then issue the offline; the smallest k that lands the
     * offline in that window is found here (it depends on how many steps the worker takes).
     */
    function window(): number[] | null {
      for (let k = 0; k <= 16; k++) {
        const schedule = [0, 0, ...Array<number>(k).fill(1), 2];
        if (run(scenario(hostData(2), commands, schedule), { rev: NO_PRECHECK, bugs: ['hotplug-before-lock'] }).violation?.id === 'I-6') return schedule;
      }
      return null;
    }

    // stopper/0 waits in cpu_relax for an ack CPU 1 never gives: nothing else can run (I-6)
    it('without the CPU-online precheck, an offline in the window hangs stop_machine (I-6); without the bug it waits', () => {
      const schedule = window();
      expect(schedule).not.toBeNull();
      const on = run(scenario(hostData(2), commands, schedule!), { rev: NO_PRECHECK, bugs: ['hotplug-before-lock'] });
      expect(on.violation).toMatchObject({ id: 'I-6', message: expect.stringMatching(/^deadlock: .*stopper\/0 can never run$/) });
      expect(on.host.platform.cpus[1]!.online).toBe(false);
      const off = run(scenario(hostData(2), commands, schedule!), { rev: NO_PRECHECK });
      expect(off.violation).toBeNull();
      expect(linResults(off.host, 'update')).toEqual([0]);
      expect(linResults(off.host, 'cpu_offline')).toEqual([0]);
    });

    it('on the seed revision the same interleaving is harmless: the precheck under the lock says -EBUSY', () => {
      const seeded = run(scenario(hostData(2), commands, window()!), { bugs: ['hotplug-before-lock'] });
      expect(seeded.violation).toBeNull();
      expect(linResults(seeded.host, 'update')).toEqual([-16]);
    });
  });
});
