// tool_update: the operator's update tool (impl/userspace/update_tool.ts) run as userspace
// runs it, through the emulated sysfs only: it reads the versions, chooses with Intel's
// selection policy over the shipped mapping file, and uploads the choice, or refuses. Its
// upload is a linearization point like any upload's; its report is checked against the model
// over the command's window: applied only of a module the model ran, lost only when it lost it.
import fc from 'fast-check';
import type { ToolReport } from '../../impl/userspace/update_tool.ts';
import { MERGED_PATHS, updateTool, V2_PATHS } from '../../impl/userspace/update_tool.ts';
import { noUpdateInterface, readVersion } from '../../model/host.ts';
import type { ModelState } from '../../model/state.ts';
import { fwLoad as modelFwLoad } from '../../model/update.ts';
import { hasRealBlob, imageBytes, modelImage, trustOf, type ImageRef } from '../images.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS, RELEASES } from '../releases.ts';
import { same, type CommandSpec, type IssueEnv } from './spec.ts';

export interface ToolUpdate {
  readonly kind: 'tool_update';
  /** Load this release instead of the policy's choice (it must still be loadable). */
  readonly version?: string;
  readonly allowDebug?: boolean;
  /** The sysfs layout the tool was written for (spec §2.7); v2 when absent. */
  readonly layout?: 'v2' | 'merged';
}

/**
 * What the tool uploads for a release: Intel's blob where the platform trusts Intel and it is
 * loaded (`--blobs`), else the vendor's build with the running module's handoff versions (the
 * vendor builds a line with one handoff scheme; after a hand-written upload of another build,
 * the running module's are what the next build must accept).
 */
function toolImage(env: IssueEnv, version: string): ImageRef {
  const m = env.model.module;
  const b = m.status === 'ready' ? m.spec : env.model.host.boot;
  const real = trustOf(env.h) === 'intel' && hasRealBlob(version);
  return {
    release: version,
    format: env.revision.checks.imageFormat,
    svnDelta: 0,
    moduleHv: real ? 0 : b.moduleHv,
    minUpdateHv: real ? 0 : b.minUpdateHv,
    noDowngrade: real ? false : b.noDowngrade,
    debug: false,
    corruption: null,
    ...(real ? { real: true } : {}),
  };
}
const text = (v: { major: number; minor: number; update: number }) => `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;

/** The reports the model allows at the tool's return: outcomes that need no upload, and those that agree with the model. */
function allowedReports(m: ModelState, layout: ToolUpdate['layout']): { outcome: ToolReport['outcome']; version?: string; because: string }[] {
  // The tool finds the interface unless the host has none or it was written for the other ABI.
  const none = noUpdateInterface(m) ?? ((layout ?? 'v2') !== m.params.sysfsAbi ? `the tool was written for the ${layout ?? 'v2'} sysfs ABI` : null);
  if (none) return [{ outcome: 'no-interface', because: none }];
  const quiet = (['unreadable', 'refused', 'busy', 'timeout'] as const).map((outcome) => ({
    outcome,
    because: 'the tool decided not to or could not upload',
  }));
  if (m.module.status === 'lost') return [...quiet, { outcome: 'lost', because: 'the model lost the module' }];
  // The tool reports the version it reads: what `version` may show (stale after B12).
  const shown = readVersion(m).flatMap((a) => (typeof a.result === 'number' ? [] : [text(a.result)]));
  return [
    ...quiet,
    ...shown.flatMap((running) => [
      { outcome: 'applied' as const, version: running, because: `version shows ${running}` },
      { outcome: 'failed' as const, version: running, because: `the update failed; version shows ${running}` },
    ]),
  ];
}

function reportMatches(allowed: unknown, actual: unknown): boolean {
  const a = allowed as { outcome: string; version?: string },
    r = actual as ToolReport;
  if (a.outcome !== r.outcome) return false;
  if (a.outcome === 'applied') return r.chosen === a.version && r.after === a.version;
  return a.outcome !== 'failed' || r.after === a.version;
}

export const TOOL_UPDATE: CommandSpec<ToolUpdate> = {
  kind: 'tool_update',
  arbitrary: () =>
    fc.record(
      {
        kind: fc.constant('tool_update' as const),
        version: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...RELEASES.map((r) => r.version)) }),
        allowDebug: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(true) }),
        layout: fc.oneof(fc.constant(undefined), fc.constant('merged' as const)),
      },
      { requiredKeys: ['kind'] },
    ),
  describe: (c) =>
    `tool_update(${[c.version ?? 'default choice', c.allowDebug ? 'allow debug' : '', c.layout === 'merged' ? 'merged layout' : 'v2 layout'].filter(Boolean).join(', ')})`,
  issue(env, c) {
    const io = {
      paths: c.layout === 'merged' ? MERGED_PATHS : V2_PATHS,
      image: (v: string) => imageBytes(toolImage(env, v)),
      // The upload is the update's fw_load: the model starts the upload where the tool's write does.
      observe: (e: Parameters<NonNullable<Parameters<typeof updateTool>[4]['observe']>>[0]) => {
        if (e.kind !== 'load') return null;
        if (e.result === 'started') env.setPendingFault(null); // the tool's upload carries no injected fault
        const image = modelImage(toolImage(env, e.version), e.bytes.length, env.revision.checks.imageFormat, trustOf(env.h));
        env.act('tool_update: fw_load', { choices: modelFwLoad(env.model, image, null), matches: same }, e.result);
        return null;
      },
    };
    return updateTool(env.h, { version: c.version, allowDebug: c.allowDebug }, MAPPING_FILE_RELEASES, RELEASE_FACTS, io);
  },
  response: {
    // The report is made of reads at different times (`error`, then `version`): an upload that
    // races the tool's can change the module between them, so it is checked over its window
    // (found by concurrency, v2, seed 3, ci budget: the tool read `version` before another
    // upload lost the module, and reported `failed`, which the state at its return did not allow).
    read: true,
    model: (m, c) => ({ choices: allowedReports(m, c.layout).map(({ because, ...result }) => ({ result, because })), matches: reportMatches }),
  },
};
