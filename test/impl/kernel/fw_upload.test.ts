// Tests for impl/kernel/fw_upload.ts: the fw_upload framework of spec §2.1 and §4.2 — the
// loading/data sequence, the progress states, `error`, `remaining_size`, `cancel`, and every
// transition of fw_upload_main — first with driver ops written here, then with tdx-host's ops.
import { describe, expect, it } from 'vitest';
import type { Host } from '../../../impl/host.ts';
import {
  createFwUpload,
  fwCancel,
  fwError,
  fwLoad,
  fwUploadMain,
  type FwProgress,
  type FwUpload,
  type FwUploadErr,
  type FwUploadOps,
} from '../../../impl/kernel/fw_upload.ts';
import { EBUSY, EINVAL, ENODEV } from '../../../impl/kernel/errno.ts';
import { spawn, stepTask, type Yield } from '../../../impl/kernel/sched.ts';
import { imageBytes } from '../../../properties/images.ts';
import { boot, corrupt, imageRef, runTasks } from './helpers.ts';

interface Calls {
  prepare: number;
  write: number;
  poll: number;
  cancel: number;
}

/** Driver ops that return what they are told and count their calls. */
function fakeOps(o: { prepare?: FwUploadErr; writes?: { err: FwUploadErr; written: number }[]; poll?: FwUploadErr } = {}): { ops: FwUploadOps; calls: Calls } {
  const calls: Calls = { prepare: 0, write: 0, poll: 0, cancel: 0 };
  const ops: FwUploadOps = {
    prepare() {
      calls.prepare++;
      return o.prepare ?? 'none';
    },
    *write(_h, img): Generator<Yield, { err: FwUploadErr; written: number }, void> {
      yield { kind: 'step', label: 'writing' };
      const r = o.writes?.[calls.write];
      calls.write++;
      return r ?? { err: 'none', written: img.len };
    },
    pollComplete() {
      calls.poll++;
      return o.poll ?? 'none';
    },
    cancel() {
      calls.cancel++;
    },
  };
  return { ops, calls };
}

const data = (n: number) => new Uint8Array(n).fill(7);

/** Runs the queued worker to the end, recording status (deduplicated) and whether `error` was -EBUSY throughout. */
function drive(h: Host, fw: FwUpload): { statuses: FwProgress[]; errorWhileBusy: Set<string | number> } {
  const statuses: FwProgress[] = [fw.progress];
  const errorWhileBusy = new Set<string | number>();
  spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
  runTasks(h, (tasks) => {
    if (statuses.at(-1) !== fw.progress) statuses.push(fw.progress);
    if (fw.progress !== 'idle') errorWhileBusy.add(fwError(fw));
    return tasks[0]!;
  });
  if (statuses.at(-1) !== fw.progress) statuses.push(fw.progress);
  return { statuses, errorWhileBusy };
}

describe('fw_upload framework with test ops (spec §2.1)', () => {
  it('a new node is idle with an empty error', () => {
    const fw = createFwUpload('x', fakeOps().ops);
    expect([fw.progress, fwError(fw), fw.remainingSize, fw.loadingDone, fw.buffer]).toEqual(['idle', '', 0, false, null]);
  });

  it('loading=0 starts synchronously: receiving, remaining_size = size, buffer in pages', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps().ops);
    expect(fwLoad(h, fw, data(5000))).toBe('started');
    expect([fw.progress, fw.remainingSize, fw.loadingDone]).toEqual(['receiving', 5000, true]);
    expect(fw.buffer!.len).toBe(5000);
    expect(fw.buffer!.pas).toHaveLength(2);
    expect(h.mem.page(fw.buffer!.pas[1]!)![903]).toBe(7);
    expect(fwError(fw)).toBe(-EBUSY);
  });

  it('success: idle -> receiving -> preparing -> transferring -> programming -> idle; error empty, remaining 0', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps();
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(8192));
    const pages = h.mem.size;
    const d = drive(h, fw);
    expect(d.statuses).toEqual(['receiving', 'preparing', 'transferring', 'programming', 'idle']);
    expect(d.errorWhileBusy).toEqual(new Set([-EBUSY]));
    expect([fwError(fw), fw.remainingSize, fw.loadingDone, fw.buffer]).toEqual(['', 0, false, null]);
    expect(calls).toEqual({ prepare: 1, write: 1, poll: 1, cancel: 0 });
    expect(h.mem.size).toBe(pages - 2); // the buffer is freed
  });

  it('writes until remaining_size is 0, subtracting what each write took', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps({
      writes: [
        { err: 'none', written: 4096 },
        { err: 'none', written: 4096 },
        { err: 'none', written: 100 },
      ],
    });
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(8292));
    drive(h, fw);
    expect([calls.write, fw.remainingSize, fwError(fw)]).toEqual([3, 0, '']);
  });

  it('prepare fails: error "preparing:<err>", no write, no poll, remaining_size untouched', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps({ prepare: 'device-busy' });
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(4096));
    expect(drive(h, fw).statuses).toEqual(['receiving', 'preparing', 'idle']);
    expect([fwError(fw), fw.remainingSize]).toEqual(['preparing:device-busy', 4096]);
    expect(calls).toEqual({ prepare: 1, write: 0, poll: 0, cancel: 0 });
  });

  it('write fails: error "transferring:<err>", no programming, remaining_size is what was left', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps({
      writes: [
        { err: 'none', written: 4096 },
        { err: 'hw-error', written: 0 },
      ],
    });
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(8192));
    expect(drive(h, fw).statuses).toEqual(['receiving', 'preparing', 'transferring', 'idle']);
    expect([fwError(fw), fw.remainingSize]).toEqual(['transferring:hw-error', 4096]);
    expect(calls.poll).toBe(0);
  });

  it('a write that takes nothing is a read-write-error', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps({ writes: [{ err: 'none', written: 0 }] }).ops);
    fwLoad(h, fw, data(10));
    drive(h, fw);
    expect([fwError(fw), fw.remainingSize]).toEqual(['transferring:read-write-error', 10]);
  });

  it('poll_complete fails: error "programming:<err>" after everything was written', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps({ poll: 'timeout' }).ops);
    fwLoad(h, fw, data(10));
    expect(drive(h, fw).statuses).toEqual(['receiving', 'preparing', 'transferring', 'programming', 'idle']);
    expect([fwError(fw), fw.remainingSize]).toEqual(['programming:timeout', 0]);
  });

  it('an empty upload starts nothing and keeps the previous error and remaining_size (§4.1 row 0)', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps({ prepare: 'hw-error' }).ops);
    fwLoad(h, fw, data(300));
    drive(h, fw);
    const pages = h.mem.size;
    expect(fwLoad(h, fw, new Uint8Array(0))).toBe('empty');
    expect([fw.progress, fwError(fw), fw.remainingSize, fw.loadingDone, fw.buffer]).toEqual(['idle', 'preparing:hw-error', 300, false, null]);
    expect(h.sched.tasks).toEqual([]);
    expect(h.mem.size).toBe(pages);
  });

  it('a new upload resets the previous error as soon as it starts', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps({ prepare: 'hw-error' }).ops);
    fwLoad(h, fw, data(300));
    drive(h, fw);
    fw.progress = 'idle';
    expect(fwLoad(h, fw, data(20))).toBe('started');
    expect([fw.errCode, fw.remainingSize]).toEqual(['none', 20]);
  });

  it('a second upload while one is in flight is ignored and changes nothing', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps();
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(4096));
    const buf = fw.buffer;
    for (const n of [100, 0]) {
      expect(fwLoad(h, fw, data(n))).toBe('ignored');
      expect([fw.buffer, fw.remainingSize, fw.progress]).toEqual([buf, 4096, 'receiving']);
    }
    drive(h, fw);
    expect(calls.write).toBe(1);
    expect(fwLoad(h, fw, data(10))).toBe('started'); // and the next one after it works
  });

  it('a load after the worker reset the loading state but before progress is idle: -EBUSY, and every later load is ignored', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps();
    const fw = createFwUpload('x', ops);
    fwLoad(h, fw, data(4096));
    const worker = spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
    const stepTo = (label: string): boolean => {
      for (let y = stepTask(h.sched, worker); y !== null; y = stepTask(h.sched, worker)) if (y.kind === 'step' && y.label === label) return true;
      return false;
    };
    expect(stepTo('fw_state_init')).toBe(true);
    expect([fw.progress, fw.loadingDone]).toEqual(['programming', false]);
    expect(fwLoad(h, fw, data(8192))).toBe('busy');
    runTasks(h);
    expect(fw.progress).toBe('idle');
    // firmware_loading_store() leaves the state done after -EBUSY, with the buffer: nothing resets it.
    expect([fw.loadingDone, fw.buffer?.len]).toEqual([true, 8192]);
    for (const n of [100, 0]) expect(fwLoad(h, fw, data(n))).toBe('ignored');
    expect([calls.write, h.sched.tasks.length]).toEqual([1, 0]);
  });

  it('cancel: only "1" is accepted; idle gives -ENODEV but the driver op still runs; in flight gives 0', () => {
    const h = boot(1);
    const { ops, calls } = fakeOps();
    const fw = createFwUpload('x', ops);
    expect(fwCancel(h, fw, '0')).toBe(-EINVAL);
    expect(calls.cancel).toBe(0);
    expect(fwCancel(h, fw, '1')).toBe(-ENODEV);
    expect(calls.cancel).toBe(1);
    fwLoad(h, fw, data(10));
    expect(fwCancel(h, fw, '1')).toBe(0);
    expect(calls.cancel).toBe(2);
  });

  it('the worker yields the linearization points fw_prepare and fw_done with their results', () => {
    const h = boot(1);
    const fw = createFwUpload('x', fakeOps({ poll: 'flash-wearout' }).ops);
    fwLoad(h, fw, data(10));
    spawn(h.sched, 'w', 0, fwUploadMain(h, fw));
    const lins = runTasks(h).filter((y) => y.kind === 'lin');
    expect(lins).toEqual([
      { kind: 'lin', op: { name: 'fw_prepare', args: {} }, result: 'none' },
      { kind: 'lin', op: { name: 'fw_done', args: {} }, result: 'programming:flash-wearout' },
    ]);
  });
});

describe('fw_upload with the tdx-host ops (spec §4.2)', () => {
  it('a good image: the whole update runs inside "transferring"; then programming, idle, error empty, remaining 0', () => {
    const h = boot(2);
    const fw = h.tdxHost.fw!;
    const bytes = imageBytes(imageRef());
    expect(fwLoad(h, fw, bytes)).toBe('started');
    const statusAtUpdate: FwProgress[] = [];
    const statuses: FwProgress[] = [fw.progress];
    spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
    runTasks(h, (tasks) => {
      if (statuses.at(-1) !== fw.progress) statuses.push(fw.progress);
      if (h.sched.stopMachine === 'running') statusAtUpdate.push(fw.progress);
      return tasks[0]!;
    });
    if (statuses.at(-1) !== fw.progress) statuses.push(fw.progress);
    expect(statuses).toEqual(['receiving', 'preparing', 'transferring', 'programming', 'idle']);
    expect(new Set(statusAtUpdate)).toEqual(new Set(['transferring']));
    expect([fwError(fw), fw.remainingSize]).toEqual(['', 0]);
  });

  it('a corrupt image: transferring:firmware-invalid, remaining_size = the whole image', () => {
    const h = boot(2);
    const fw = h.tdxHost.fw!;
    const bytes = imageBytes(corrupt({ kind: 'bad_magic' }));
    fwLoad(h, fw, bytes);
    expect(drive(h, fw).statuses).toEqual(['receiving', 'preparing', 'transferring', 'idle']);
    expect([fwError(fw), fw.remainingSize]).toEqual(['transferring:firmware-invalid', bytes.length]);
  });
});
