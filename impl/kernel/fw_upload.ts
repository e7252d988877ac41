// The firmware-upload framework: sysfs files loading/data/status/error/cancel/remaining_size
// and the worker that drives a driver's prepare/write/poll_complete/cancel ops.
// Mirrors: torvalds/linux drivers/base/firmware_loader/sysfs_upload.c @ 2b1333b8 and
// firmware_loading_store() in sysfs.c (spec §2.1).
import { step, wakeUp, type WaitQueue, type Yield } from './sched.ts';
import { EBUSY, EINVAL, ENODEV } from './errno.ts';
import type { ImageBuf } from './seamldr.ts';
import type { Host } from '../host.ts';

export type FwProgress = 'idle' | 'receiving' | 'preparing' | 'transferring' | 'programming';
export type FwUploadErr =
  | 'none'
  | 'hw-error'
  | 'timeout'
  | 'user-abort'
  | 'device-busy'
  | 'invalid-file-size'
  | 'read-write-error'
  | 'flash-wearout'
  | 'firmware-invalid';

export interface FwUploadOps {
  prepare(h: Host, img: ImageBuf): FwUploadErr;
  write(h: Host, img: ImageBuf): Generator<Yield, { err: FwUploadErr; written: number }, void>;
  pollComplete(h: Host): FwUploadErr;
  cancel(h: Host): void;
}

export interface FwUpload extends WaitQueue {
  readonly name: string;
  readonly ops: FwUploadOps;
  progress: FwProgress;
  errCode: FwUploadErr;
  errProgress: FwProgress;
  remainingSize: number;
  /** The firmware state of the loading file is FW_STATUS_DONE: an upload is in flight. */
  loadingDone: boolean;
  buffer: ImageBuf | null;
}

export function createFwUpload(name: string, ops: FwUploadOps): FwUpload {
  // Stryker disable next-line StringLiteral: errProgress is shown only with an error, and setError sets both
  return { name, ops, progress: 'idle', errCode: 'none', errProgress: 'idle', remainingSize: 0, loadingDone: false, buffer: null, gen: 0 };
}

/** fw_upload_update_progress(): a reader sleeping until `status` changes looks again. */
function setProgress(fw: FwUpload, progress: FwProgress): void {
  fw.progress = progress;
  wakeUp(fw);
}

/** What one `echo 1 > loading; cat image > data; echo 0 > loading` did. */
export type LoadResult = 'started' | 'empty' | 'ignored' | 'busy';

/**
 * loading=1, data, loading=0 as userspace writes them. While an upload is in flight the
 * firmware state is 'done', so writes to loading return early and the attempt is ignored.
 */
export function fwLoad(h: Host, fw: FwUpload, data: Uint8Array): LoadResult {
  if (fw.loadingDone) return 'ignored';
  const pas = h.mem.load(data);
  fw.buffer = { pas, len: data.length };
  fw.loadingDone = true;
  return fwUploadStart(h, fw);
}

function freeBuffer(h: Host, fw: FwUpload): void {
  for (const pa of fw.buffer!.pas) h.mem.free(pa);
  fw.buffer = null;
  fw.loadingDone = false;
}

/** fw_upload_start(): an empty buffer starts nothing and keeps the old error (spec §4.1 row 0). */
function fwUploadStart(h: Host, fw: FwUpload): LoadResult {
  if (fw.buffer!.len === 0) {
    freeBuffer(h, fw);
    return 'empty';
  }
  // Reached only between fw_upload_main()'s fw_state_init() and its fw_upload_prog_complete():
  // any other load in flight finds the loading state done and is ignored. The state is left
  // done and the buffer held, as firmware_loading_store() leaves them after -EBUSY: nothing
  // resets them again, so every later load is ignored (properties/goals.ts upload-not-wedged).
  if (fw.progress !== 'idle') return 'busy';
  setProgress(fw, 'receiving');
  fw.errCode = 'none';
  fw.remainingSize = fw.buffer!.len;
  return 'started';
}

function setError(fw: FwUpload, progress: FwProgress, err: FwUploadErr): void {
  fw.errProgress = progress;
  fw.errCode = err;
}

/** fw_upload_main(): the worker queued on system_long_wq. */
export function* fwUploadMain(h: Host, fw: FwUpload): Generator<Yield, void, void> {
  const img = fw.buffer!;
  setProgress(fw, 'preparing');
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('preparing');
  let err = fw.ops.prepare(h, img);
  yield { kind: 'lin', op: { name: 'fw_prepare', args: {} }, result: err };
  if (err !== 'none') {
    setError(fw, 'preparing', err);
  } else {
    setProgress(fw, 'transferring');
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('transferring');
    err = yield* transfer(h, fw, img);
    if (err === 'none') {
      setProgress(fw, 'programming');
      // Stryker disable next-line StringLiteral: the label only names the point in the timeline
      yield step('programming');
      err = fw.ops.pollComplete(h);
      // Stryker disable next-line ConditionalExpression,StringLiteral: tdx-host's poll_complete never fails
      if (err !== 'none') setError(fw, 'programming', err);
    }
  }
  // remaining_size is left as it was: it tells how far a failed upload got.
  freeBuffer(h, fw); // fw_free_paged_buf() and fw_state_init() under fw_lock
  // fw_lock is dropped before fwlp->lock is taken: a load may come in between.
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('fw_state_init');
  setProgress(fw, 'idle'); // fw_upload_prog_complete()
  yield { kind: 'lin', op: { name: 'fw_done', args: {} }, result: fwError(fw) };
}

function* transfer(h: Host, fw: FwUpload, img: ImageBuf): Generator<Yield, FwUploadErr, void> {
  while (fw.remainingSize > 0) {
    const { err, written } = yield* fw.ops.write(h, img);
    // Stryker disable next-line ConditionalExpression: tdx-host's write reports 0 written with every error
    if (err !== 'none' || written === 0) {
      const e = err !== 'none' ? err : 'read-write-error';
      setError(fw, 'transferring', e);
      return e;
    }
    fw.remainingSize -= written;
  }
  return 'none';
}

/** `cat error`: -EBUSY while in flight; empty if the last upload succeeded. */
export function fwError(fw: FwUpload): string | number {
  if (fw.progress !== 'idle') return -EBUSY;
  return fw.errCode === 'none' ? '' : `${fw.errProgress}:${fw.errCode}`;
}

/** `echo 1 > cancel`: -ENODEV when idle, but ops->cancel is called all the same. */
export function fwCancel(h: Host, fw: FwUpload, value: string): number {
  if (value !== '1') return -EINVAL;
  fw.ops.cancel(h);
  return fw.progress === 'idle' ? -ENODEV : 0;
}
