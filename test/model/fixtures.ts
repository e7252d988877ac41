// Fixtures for the model tests. They use model/ only: the contract is read and checked on its
// own terms, as a reviewer of model/ would, without the emulation.
import type { Allowed, Choices } from '../../model/allowed.ts';
import { init, type HostSpec, type ModelState } from '../../model/state.ts';
import { tdCreate, tdExtend, tdFinalize, tdInit, tdKeyConfig, tdPageAdd } from '../../model/td.ts';
import type { ContractParams, Defect, FaultPlan, ModelImage, ModuleSpec } from '../../model/types.ts';
import { fwLoad, fwPrepare, fwWrite, update, type UpdateResult } from '../../model/update.ts';

/** The v2 kernel's policies (spec §2.7 left column). */
export const V2_PARAMS: ContractParams = {
  cpuOnlinePrecheck: true,
  slotsPrecheck: true,
  entropyRetry: true,
  currentHandoffHv: true,
  handoffHvReadAtShutdown: false,
  avoidCompat: false,
  deviceBusyError: false,
  cancelSupport: true,
  vmcsErratumGuard: false,
  sysfsAbi: 'v2',
};
/** v2 without its prechecks and retry (what v5 dropped), everything else as v2. */
export const NO_PRECHECKS: ContractParams = { ...V2_PARAMS, cpuOnlinePrecheck: false, slotsPrecheck: false, entropyRetry: false };
/** v3-v10 compat-sensitive handling on v2: AVOID_COMPAT_SENSITIVE, -EBUSY reads device-busy. */
export const COMPAT_PARAMS: ContractParams = { ...V2_PARAMS, avoidCompat: true, deviceBusyError: true };
/** The merged kernel (spec §2.7 right column). */
export const UPSTREAM_PARAMS: ContractParams = {
  cpuOnlinePrecheck: false,
  slotsPrecheck: false,
  entropyRetry: false,
  currentHandoffHv: true,
  handoffHvReadAtShutdown: true,
  avoidCompat: false,
  deviceBusyError: false,
  cancelSupport: false,
  vmcsErratumGuard: true,
  sysfsAbi: 'merged',
};

/** A 1.5.x module; Sapphire Rapids (0x806f0) is in its CPUID table. */
export function spec(update: number, over: Partial<ModuleSpec> = {}): ModuleSpec {
  return {
    version: { major: 1, minor: 5, update },
    seamsvn: 0x100 + update,
    moduleHv: 0,
    minUpdateHv: 0,
    noDowngrade: false,
    debug: false,
    cpuids: [0x806f0, 0xc06f0],
    updateCompat: false,
    minTdPreserving: { major: 1, minor: 5, update: 1 },
    ...over,
  };
}

export const BOOT = spec(6);
export const NEXT = spec(8);

export function hostSpec(over: Partial<HostSpec> = {}): HostSpec {
  return {
    nrCpus: 4,
    cpuFms: 0x806f8,
    boot: BOOT,
    seamldrVersion: { major: 1, minor: 5, update: 0 },
    numRemainingUpdates: 2,
    debugUnlocked: false,
    erratum: false,
    ...over,
  };
}

export function state(host: Partial<HostSpec> = {}, params: ContractParams = V2_PARAMS): ModelState {
  return init(params, hostSpec(host));
}

export function img(module: ModuleSpec = NEXT, defect: Defect = 'none', size = 16384): ModelImage {
  return { size, module, defect };
}

/**
 * TDs in every phase: #1 created, #2 keyed, #3 building with two pages (one measured), #4
 * finalized with one page, #5 dead (a SEAMCALL for it failed).
 */
export function withTds(s: ModelState): ModelState {
  const ok = (b: boolean) => {
    if (!b) throw new Error('fixture: a TD step failed');
  };
  ok(tdCreate(s, 1));
  ok(tdCreate(s, 2));
  ok(tdKeyConfig(s, 2));
  ok(tdCreate(s, 3));
  ok(tdKeyConfig(s, 3));
  ok(tdInit(s, 3));
  ok(tdPageAdd(s, 3, 0, 1));
  ok(tdExtend(s, 3, 0));
  ok(tdPageAdd(s, 3, 1, 2));
  ok(tdCreate(s, 4));
  ok(tdKeyConfig(s, 4));
  ok(tdInit(s, 4));
  ok(tdPageAdd(s, 4, 0, 3));
  ok(tdExtend(s, 4, 0));
  ok(tdFinalize(s, 4));
  ok(tdCreate(s, 5));
  ok(!tdFinalize(s, 5));
  return s;
}

/** An upload up to the point where the driver's write op starts the update. */
export function load(s: ModelState, image: ModelImage = img(), fault: FaultPlan | null = null): void {
  if (take(s, fwLoad(s, image, fault), undefined).result !== 'started') throw new Error('fixture: the upload did not start');
  fwPrepare(s);
  fwWrite(s);
}

/** One whole update attempt up to what the contract allows its write op to return. */
export function attempt(s: ModelState, image: ModelImage = img(), fault: FaultPlan | null = null): Choices<UpdateResult> {
  load(s, image, fault);
  return update(s);
}

/** Take the allowed result `pick` selects (the first by default) and move to its successor, as the harness does. */
export function take<R>(s: ModelState, choices: Choices<R>, actual: unknown, pick: (a: Allowed<R>) => boolean = () => true): Allowed<R> {
  const a = choices.find(pick);
  if (!a) throw new Error('fixture: no such choice');
  a.next?.(s, actual);
  return a;
}

/** A deep copy of everything but the fw_upload node (which every attempt touches). */
export function withoutUpload(s: ModelState): Omit<ModelState, 'upload'> {
  const c: Partial<ModelState> = structuredClone(s);
  delete c.upload;
  return c as Omit<ModelState, 'upload'>;
}
