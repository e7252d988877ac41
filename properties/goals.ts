// Safety goals stated independently of any kernel revision: what users of runtime updates
// need, whatever the design. A revision may break one by design; its record
// (properties/revisions/) says which, and `npm run verify -- --kernel all` checks that record (spec §2.7, §3.6,
// §3.7, §4.2). A goal is checked like an invariant: after every step, on the implementation.
import type { Host } from '../impl/host.ts';
import { versionShow } from '../impl/kernel/tdx_host.ts';
import type { Upload } from './commands/upload.ts';
import { imageBytes, modelImage, trustOf, type TrustAnchor } from './images.ts';
import type { Invariant } from './invariants.ts';

export type Goal = Invariant;

function moduleRuns(h: Host): boolean {
  return h.tdx.state.initialized && h.seam.seamReady && h.seam.module?.sysState === 'SYS_READY';
}

/**
 * No TD is lost unless the firmware itself fails: an update with no injected fault and an image
 * P-SEAMLDR accepts never loses the module because of a condition the kernel could have
 * checked first, as it was when the driver started the update (hotplug is locked from there).
 */
function noLossGoal(id: string, condition: string, source: string, holds: (h: Host) => boolean): Goal {
  return {
    id,
    source,
    claim: `no TD is lost unless the firmware itself fails, even when ${condition}`,
    create(checks) {
      let upload: Upload | null = null;
      let risky = false;
      return (h, events) => {
        for (const e of events) {
          if (e.kind === 'response' && e.command.kind === 'upload' && e.result === 'started') upload = e.command as Upload;
          if (e.kind !== 'lin') continue;
          if (e.op.name === 'fw_write') risky = moduleRuns(h) && holds(h);
          if (e.op.name !== 'update' || !upload || e.result === 0 || moduleRuns(h)) continue;
          if (risky && sound(upload, checks.imageFormat, trustOf(h)) && upload.fault === null) return `the module was lost because ${condition}`;
        }
        return null;
      };
    },
  };
}

/** An image nothing is wrong with, for the kernel under test. */
function sound(u: Upload, format: 'v1' | 'v2', trust: TrustAnchor): boolean {
  return modelImage(u.image, imageBytes(u.image).length, format, trust).defect === 'none';
}

// Each goal blames one condition: the other must not hold at the same time.
const allOnline = (h: Host) => h.platform.cpus.every((c) => c.online);
const noSlots = (h: Host) => h.seam.pseamldr.numRemainingUpdates === 0;
const NO_LOSS_OFFLINE = noLossGoal(
  'no-td-loss-with-offline-cpu',
  'a CPU is offline',
  'spec §3.6, §8 B27 [T-v4 #104-#111]',
  (h) => !allOnline(h) && !noSlots(h),
);
const NO_LOSS_SLOTS = noLossGoal(
  'no-td-loss-without-slots',
  'no update slots are left',
  'spec §3.3, §8 B28 [LX-abi; T-v4 #106/#111]',
  (h) => noSlots(h) && allOnline(h),
);

const BUILD_INTACT: Goal = {
  id: 'td-build-measurement-intact',
  claim: 'an update during a TD build never corrupts its measurement or breaks the build: it is refused instead',
  source: 'spec §3.7, §8 B29 [BIN README; T-v7 #76]',
  create: () => (h, events) => {
    for (const e of events) {
      if (e.kind !== 'update_end' || e.ret !== 0) continue;
      const building = [...h.seam.module!.tds.values()].filter((td) => td.initialized && !td.finalized);
      if (building.length) return `an update was applied while ${building.length} TD(s) were being built: their measurement context is gone`;
    }
    return null;
  },
};

const ERROR_TELLS_FATAL: Goal = {
  id: 'error-tells-fatal',
  claim: 'the caller can tell a fatal failure (TDs lost) from a harmless one by the `error` file alone',
  source: 'spec §4.2, §4.3, §8 B30',
  create() {
    const seen = { fatal: new Set<string>(), harmless: new Set<string>() };
    return (h, events) => {
      for (const e of events) {
        if (e.kind !== 'lin' || e.op.name !== 'fw_done' || e.result === '') continue;
        const err = String(e.result),
          fatal = !moduleRuns(h);
        (fatal ? seen.fatal : seen.harmless).add(err);
        if ((fatal ? seen.harmless : seen.fatal).has(err)) return `a fatal and a harmless failure both read "${err}"`;
      }
      return null;
    };
  },
};

const VERSION_TELLS_FATAL: Goal = {
  id: 'version-tells-fatal',
  claim: 'after a failed update, `version` reads -ENXIO exactly when the module can no longer run TDs',
  source: 'spec §4.2 [T-v3 #57; T-v10 p24]; I-7',
  create: () => (h, events) => {
    for (const e of events) {
      if (e.kind !== 'lin' || e.op.name !== 'fw_done') continue;
      const unreadable = versionShow(h) === -6;
      if (unreadable === moduleRuns(h)) return `version ${unreadable ? 'reads -ENXIO' : 'is readable'} but the module ${moduleRuns(h) ? 'runs' : 'is lost'}`;
    }
    return null;
  },
};

/**
 * fw_upload_main() resets the loading state under fw_lock, then sets progress idle under
 * fwlp->lock: a load in between is refused -EBUSY by fw_upload_start(), and
 * firmware_loading_store() leaves the state done, which only the worker resets. Checked on the
 * state: idle with the loading state done is reachable no other way (impl/kernel/fw_upload.ts).
 */
const UPLOAD_NOT_WEDGED: Goal = {
  id: 'upload-not-wedged',
  claim: 'a load refused while an upload finishes leaves the update interface usable: with no upload in flight, a load starts one',
  source: 'spec §2.1 [LX-fwu]: sysfs_upload.c fw_upload_main, fw_upload_start; sysfs.c firmware_loading_store',
  create: () => (h) => {
    const fw = h.tdxHost.fw;
    return fw?.progress === 'idle' && fw.loadingDone ? 'no upload is in flight but the loading state is done: every later load is ignored' : null;
  },
};

/** The kernel's goals; properties/stack_goals.ts adds the operator's tool and the kernel together. */
export const KERNEL_GOALS: readonly Goal[] = [NO_LOSS_OFFLINE, NO_LOSS_SLOTS, BUILD_INTACT, ERROR_TELLS_FATAL, VERSION_TELLS_FATAL, UPLOAD_NOT_WEDGED];
