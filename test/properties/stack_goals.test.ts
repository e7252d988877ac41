// The stack goals on hosts driven by the operator's tool, and on hand-built traces: each goal
// holds where the stack is safe and fails where it is not.
import { describe, expect, it } from 'vitest';
import type { Host, TraceEvent } from '../../impl/host.ts';
import { cpuDown } from '../../impl/kernel/hotplug.ts';
import { type Revision } from '../../impl/kernel/revision.ts';
import { COMPAT_KERNEL as COMPAT, UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../properties/revisions/index.ts';
import { runnableTasks, spawn, stepTask, type Task, type Yield } from '../../impl/kernel/sched.ts';
import { MERGED_PATHS, updateTool, type ToolPaths, type ToolReport } from '../../impl/userspace/update_tool.ts';
import { injectedFaults } from '../../properties/faults.ts';
import type { Goal } from '../../properties/goals.ts';
import { imageBytes } from '../../properties/images.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS } from '../../properties/releases.ts';
import { STACK_GOALS, TOOL_COMMAND } from '../../properties/stack_goals.ts';
import { V2 as V2_RECORD } from '../../properties/revisions/index.ts';
import { boot, imageRef, runBody } from '../impl/kernel/helpers.ts';

const goal = (id: string): Goal => STACK_GOALS.find((g) => g.id === id)!;
const KEEPS_TDS = goal('policy-update-keeps-tds'),
  FINDS = goal('tool-finds-interface'),
  ACCEPTED = goal('policy-picks-accepted');

/** A command's response in the trace, as harness/run.ts records it. */
const response = (task: string, kind: string, result: unknown): TraceEvent => ({ kind: 'response', task, command: { kind }, result });

/**
 * The tool_update command as the goals expect it (see properties/stack_goals.ts): its response
 * is the tool's report. With `announce`, its upload is announced the way the hand-written
 * `upload` command's response announces one.
 */
function* toolCommand(h: Host, paths?: ToolPaths, announce = false): Generator<Yield, void, void> {
  const report = yield* updateTool(h, {}, MAPPING_FILE_RELEASES, RELEASE_FACTS, {
    image: (v) => imageBytes(imageRef(v, { format: h.rev.imageFormat })),
    paths,
    observe: (e) => {
      if (announce && e.kind === 'load') h.trace.push(response('cmd1:upload', 'upload', e.result));
      return null;
    },
  });
  h.trace.push(response(`cmd1:${TOOL_COMMAND}`, TOOL_COMMAND, report));
}

/** Steps every task fairly, records linearization points in the trace as harness/run.ts does, and checks the goals after every step. */
function drive(h: Host, name: string, body: Generator<Yield, void, void>): Map<string, string> {
  const checks = STACK_GOALS.map((g) => ({ id: g.id, check: g.create(V2_RECORD.checks) }));
  const found = new Map<string, string>();
  const last = new Map<Task, number>();
  let seen = h.trace.length;
  spawn(h.sched, name, 0, body);
  for (let step = 0; h.sched.tasks.length > 0; step++) {
    const t = h.sched.tasks.filter((x) => runnableTasks(h.sched).includes(x)).sort((a, b) => (last.get(a) ?? -1) - (last.get(b) ?? -1) || a.id - b.id)[0]!;
    last.set(t, step);
    const y = stepTask(h.sched, t);
    if (y?.kind === 'lin') h.trace.push({ kind: 'lin', task: t.name, op: y.op, result: y.result });
    const events = h.trace.slice(seen);
    seen = h.trace.length;
    for (const c of checks) {
      const msg = c.check(h, events);
      if (msg && !found.has(c.id)) found.set(c.id, msg);
    }
  }
  return found;
}

function host(rev: Revision, o: { offline?: number; slots?: number } = {}): Host {
  const h = boot(4, { rev, host: { slots: o.slots ?? 2 } });
  if (o.offline !== undefined) runBody(h, cpuDown(h, o.offline));
  return h;
}

const report = (h: Host): ToolReport => {
  const e = h.trace.findLast((x) => x.kind === 'response' && x.command.kind === TOOL_COMMAND);
  return (e as Extract<TraceEvent, { kind: 'response' }>).result as ToolReport;
};

describe('the stack goals on tool-driven hosts', () => {
  it("v2 kernel, quiet host: the tool applies the policy's choice and every goal holds", () => {
    const h = host(V2);
    expect(drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h))).toEqual(new Map());
    expect(report(h).outcome).toBe('applied');
  });

  it('v2 kernel, a CPU offline: the kernel refuses, nothing is lost', () => {
    const h = host(V2, { offline: 3 });
    expect(drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h))).toEqual(new Map());
    expect(report(h).outcome).toBe('failed');
  });

  it('merged kernel, a CPU offline: the update the policy chose loses the module (policy-update-keeps-tds fails)', () => {
    const h = host(UPSTREAM, { offline: 3 });
    const found = drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h, MERGED_PATHS));
    expect([...found.keys()]).toEqual([KEEPS_TDS.id]);
    expect(found.get(KEEPS_TDS.id)).toMatch(/^the update the policy chose lost the module \(-\d+\) with no firmware fault$/);
    expect(report(h).outcome).toBe('lost');
  });

  it('merged kernel, no slots left: lost too', () => {
    const h = host(UPSTREAM, { slots: 0 });
    expect([...drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h, MERGED_PATHS)).keys()]).toEqual([KEEPS_TDS.id]);
  });

  it('a firmware fault excuses the loss', () => {
    const h = host(V2);
    h.seam.faults = injectedFaults({ kind: 'leaf', leaf: 'UPDATE', cpu: null }, 4);
    expect(drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h))).toEqual(new Map());
    expect(report(h).outcome).toBe('lost');
  });

  it('merged kernel, a tool written for v2: it cannot find the interface (tool-finds-interface fails)', () => {
    const h = host(UPSTREAM);
    const found = drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h));
    expect([...found.keys()]).toEqual([FINDS.id]);
    expect(found.get(FINDS.id)).toBe(
      'no /sys/devices/faux/tdx_host/seamldr/version: this kernel does not expose the update interface the tool was written for; the kernel exposes /sys/class/firmware/tdx_module',
    );
  });

  it('a tool written for the merged layout on the v2 kernel is not what the goal judges', () => {
    const h = host(V2);
    expect(drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h, MERGED_PATHS))).toEqual(new Map());
    expect(report(h)).toMatchObject({ outcome: 'no-interface', layout: 'merged' });
  });

  it('a host without the update interface: not finding it is right', () => {
    const h = boot(2, { rev: UPSTREAM, host: { erratum: true } });
    expect(h.tdxHost.fw).toBeNull();
    expect(drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h))).toEqual(new Map());
    expect(report(h).outcome).toBe('no-interface');
  });

  it('compat kernel, quiet host: the platform refuses every module the policy picks (policy-picks-accepted fails)', () => {
    const h = host(COMPAT);
    const found = drive(h, `cmd1:${TOOL_COMMAND}`, toolCommand(h));
    expect([...found.keys()]).toEqual([ACCEPTED.id]);
    expect(found.get(ACCEPTED.id)).toMatch(/^the platform refused the module the policy picked \(-\d+\) on a quiet host$/);
    expect(report(h).outcome).toBe('failed');
  });

  it("uploads that are not the tool's are not the policy's: a raw upload that loses the module breaks no stack goal", () => {
    const h = host(UPSTREAM, { offline: 3 });
    expect(drive(h, 'cmd1:upload', toolCommand(h, MERGED_PATHS, true))).toEqual(new Map());
    expect(report(h).outcome).toBe('lost');
  });
});

describe('the stack goals on hand-built traces', () => {
  const lin = (task: string, name: 'fw_write' | 'update' | 'fw_done', result: unknown): TraceEvent => ({ kind: 'lin', task, op: { name, args: {} }, result });
  const rawStart = (task: string): TraceEvent => response(task, 'upload', 'started');
  const tool = `cmd2:${TOOL_COMMAND}`;
  /** Steps in order; a function is a step that changes the host first. */
  const run = (g: Goal, h: Host, steps: (TraceEvent[] | (() => TraceEvent[]))[]) => {
    const c = g.create(V2_RECORD.checks);
    return steps.map((events) => c(h, typeof events === 'function' ? events() : events)).find((m) => m !== null) ?? null;
  };

  it('policy-update-keeps-tds: a failed update of the tool with the module gone', () => {
    const h = host(V2);
    const runs = (on: boolean) => () => {
      h.tdx.state.initialized = on;
      return [];
    };
    const write = [lin('fw_upload_worker', 'fw_write', false)],
      update = [lin('fw_upload_worker', 'update', -5)];
    expect(run(KEEPS_TDS, h, [[], write, update])).toBeNull(); // the module still runs: refused, not lost
    expect(run(KEEPS_TDS, h, [[], write, runs(false), update])).toMatch(/lost the module \(-5\)/);
    expect(run(KEEPS_TDS, h, [[rawStart('cmd2:upload')], runs(true), write, runs(false), update])).toBeNull();
    // Lost before the tool's write started the update (another upload's doing): not this update's.
    expect(run(KEEPS_TDS, h, [runs(false), write, update])).toBeNull();
  });

  it("an update is the tool's unless a hand-written upload announced it, whatever the tool yields", () => {
    const h = host(V2);
    const write = () => {
        h.tdx.state.initialized = true;
        return [lin('fw_upload_worker', 'fw_write', false)];
      },
      lost = () => {
        h.tdx.state.initialized = false;
        return [lin('fw_upload_worker', 'update', -5)];
      };
    expect(run(KEEPS_TDS, h, [write, lost])).toMatch(/lost the module \(-5\)/);
    expect(run(KEEPS_TDS, h, [[rawStart('cmd1:upload')], write, lost])).toBeNull();
    expect(run(KEEPS_TDS, h, [[rawStart('cmd1:upload')], write, lost, write, lost])).toMatch(/lost the module \(-5\)/);
  });

  it('policy-picks-accepted: a refusal counts only on a quiet host, without a cancel', () => {
    const h = host(V2);
    const steps = (cancelled: boolean) => [[], [lin('fw_upload_worker', 'fw_write', cancelled)], [lin('fw_upload_worker', 'update', -22)]];
    expect(run(ACCEPTED, h, steps(false))).toMatch(/refused the module the policy picked \(-22\) on a quiet host/);
    expect(run(ACCEPTED, h, steps(true))).toBeNull();
    h.seam.pseamldr.numRemainingUpdates = 0;
    expect(run(ACCEPTED, h, steps(false))).toBeNull();
  });

  it("tool-finds-interface: a v2 tool's no-interface report while the kernel has a fw node", () => {
    const h = host(V2);
    const r = (outcome: string, layout = 'v2') => [[response(tool, TOOL_COMMAND, { outcome, layout, message: 'no /x' })]];
    expect(run(FINDS, h, r('no-interface'))).toBe('no /x; the kernel exposes /sys/class/firmware/seamldr_upload');
    expect(run(FINDS, h, r('refused'))).toBeNull();
    expect(run(FINDS, h, r('no-interface', 'merged'))).toBeNull();
  });
});
