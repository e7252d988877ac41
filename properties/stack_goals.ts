// Safety goals for the whole stack: the operator's tool (impl/userspace/update_tool.ts) and the
// kernel together. An operator does not write bytes to sysfs at random: the tool chooses with
// Intel's policy (spec §3.5) and uploads through the interface the kernel exposes. These goals
// ask whether that is safe, per kernel revision, like the goals of properties/goals.ts; a
// revision may break one by design, and its record (properties/revisions/) says which.
//
// Which upload is the tool's: only two commands start uploads, `upload` (an operator writing
// bytes by hand) and `tool_update`, and only one upload is in flight at a time. An `upload`
// announces its start (its response, 'started'); an update whose `fw_write` comes with no such
// announcement pending is the tool's. The tool's own report (the tool_update command's
// response, a ToolReport) says whether it found the interface. The two functions below are the only places that read those events.
import type { Host, TraceEvent } from '../impl/host.ts';
import type { ToolReport } from '../impl/userspace/update_tool.ts';
import { KERNEL_GOALS, type Goal } from './goals.ts';

export const TOOL_COMMAND = 'tool_update';

function moduleRuns(h: Host): boolean {
  return h.tdx.state.initialized && h.seam.seamReady && h.seam.module?.sysState === 'SYS_READY';
}

function faultArmed(h: Host): boolean {
  const f = h.seam.faults;
  return f.installFail !== null || f.noEntropy > 0 || f.leafFail !== null;
}

/**
 * The states in which the spec documents that an update is refused or fails whatever the
 * module: a CPU offline (§3.6), no update slots left (§3.3), a TD being built (§3.7), a cancel
 * (§2.7 v2), the module not running.
 */
function quiet(h: Host): boolean {
  const building = [...(h.seam.module?.tds.values() ?? [])].some((td) => td.initialized && !td.finalized);
  return moduleRuns(h) && h.platform.cpus.every((c) => c.online) && h.seam.pseamldr.numRemainingUpdates > 0 && !building;
}

/** A hand-written upload started: the `upload` command's `fw_load` point. */
function rawUploadStarted(e: TraceEvent): boolean {
  return e.kind === 'response' && e.command.kind === 'upload' && e.result === 'started';
}

/** The tool's report, when the tool_update command returns. */
function toolReport(e: TraceEvent): ToolReport | null {
  return e.kind === 'response' && e.command.kind === TOOL_COMMAND ? (e.result as ToolReport) : null;
}

/** What a goal learns about the upload in flight, from its `fw_write` to its `update`. */
interface InFlight {
  tool: boolean;
  faulted: boolean;
  quiet: boolean;
  /** The module ran when the driver's write op started: an update can lose only what runs. */
  ran: boolean;
}

/** Follows the trace and calls `judge` at the `update` point of every upload the tool started. */
function onToolUpdate(judge: (h: Host, ret: number, u: InFlight) => string | null): Goal['create'] {
  return () => {
    let raw = false;
    let u: InFlight | null = null;
    return (h, events) => {
      for (const e of events) {
        if (rawUploadStarted(e)) raw = true;
        if (e.kind === 'update_begin' && u) u.faulted = faultArmed(h);
        if (e.kind !== 'lin') continue;
        if (e.op.name === 'fw_write') {
          u = { tool: !raw, faulted: false, quiet: e.result === false && quiet(h), ran: moduleRuns(h) };
          raw = false;
        }
        if (e.op.name !== 'update' || !u) continue;
        const msg = u.tool ? judge(h, e.result as number, u) : null;
        u = null;
        if (msg) return msg;
      }
      return null;
    };
  };
}

const POLICY_KEEPS_TDS: Goal = {
  id: 'policy-update-keeps-tds',
  claim: 'an update the policy chose never loses a TD (unless the firmware itself fails)',
  source: 'spec §3.5 (the selection rules), §3.6, §4.1',
  create: onToolUpdate((h, ret, u) =>
    ret !== 0 && !u.faulted && u.ran && !moduleRuns(h) ? `the update the policy chose lost the module (${ret}) with no firmware fault` : null,
  ),
};

const POLICY_PICKS_ACCEPTED: Goal = {
  id: 'policy-picks-accepted',
  claim: 'the platform accepts the module the policy picks: on a quiet host (every CPU online, slots left, no TD being built, no cancel) its update is applied',
  source: 'spec §3.5, §3.3, §3.4, §2.7',
  create: onToolUpdate((h, ret, u) =>
    ret !== 0 && !u.faulted && u.quiet
      ? `the platform refused the module the policy picked (${ret}) on a quiet host${moduleRuns(h) ? '' : ', and lost the module'}`
      : null,
  ),
};

/**
 * The interface of the v2 series is the one operators' tools were first written against
 * (Intel's tool included); the merged kernel renamed the fw node and the P-SEAMLDR attribute
 * (spec §2.7), so this asks whether a tool written for v2 still finds an interface the kernel
 * exposes. A tool written for the merged layout is not judged here.
 */
const TOOL_FINDS_INTERFACE: Goal = {
  id: 'tool-finds-interface',
  claim: "an operator's tool written for the v2 interface finds the update interface the kernel exposes",
  source: 'spec §2.7 (fw node and P-SEAMLDR attributes per revision), §2.2',
  create: () => (h, events) => {
    for (const e of events) {
      const r = toolReport(e);
      if (r?.layout === 'v2' && r.outcome === 'no-interface' && h.tdxHost.fw !== null)
        return `${r.message}; the kernel exposes /sys/class/firmware/${h.tdxHost.fw.name}`;
    }
    return null;
  },
};

/** The stack goals, for the verdict table beside the kernel's (properties/goals.ts). */
export const STACK_GOALS: readonly Goal[] = [POLICY_KEEPS_TDS, TOOL_FINDS_INTERFACE, POLICY_PICKS_ACCEPTED];

/** Every safety goal the verdict table judges: the kernel's, then the stack's. */
export const GOALS: readonly Goal[] = [...KERNEL_GOALS, ...STACK_GOALS];
