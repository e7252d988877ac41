// The emulated sysfs as a userspace program sees it: files by path. A path exists when the
// driver created it (tdx_host's attributes, spec §2.2 and §2.7) or it is a file of a
// registered fw_upload node (loading, data, status, error: spec §2.1); reads and writes go to
// the kernel functions behind those files.
// Mirrors: the open/read/write system calls on sysfs, nothing more.
import { ENOENT } from '../kernel/errno.ts';
import { fwError, fwLoad, fwUploadMain, type FwUpload, type LoadResult } from '../kernel/fw_upload.ts';
import { spawn, type Yield } from '../kernel/sched.ts';
import { seamldrAttrShow, sysfsFiles, versionShowTask } from '../kernel/tdx_host.ts';
import type { Host } from '../host.ts';

export const TDX_HOST_DIR = '/sys/devices/faux/tdx_host';
export const FIRMWARE_DIR = '/sys/class/firmware';

/** The fw_upload node a path is in, and the file, or null (also when the driver lists no such file). */
function fwFile(h: Host, path: string): { fw: FwUpload; file: string } | null {
  const fw = h.tdxHost.fw;
  if (fw === null || !path.startsWith(`${FIRMWARE_DIR}/${fw.name}/`) || !sysfsExists(h, path)) return null;
  return { fw, file: path.slice(`${FIRMWARE_DIR}/${fw.name}/`.length) };
}

export function sysfsExists(h: Host, path: string): boolean {
  return sysfsFiles(h).some((f) => f.path === path);
}

/** The P-SEAMLDR attribute a path names, in whichever layout this kernel has. */
function seamldrAttr(h: Host, path: string): 'version' | 'num_remaining_updates' | null {
  if (!path.startsWith(`${TDX_HOST_DIR}/`) || !sysfsExists(h, path) || path === `${TDX_HOST_DIR}/version`) return null;
  return path.endsWith('num_remaining_updates') ? 'num_remaining_updates' : 'version';
}

/**
 * `cat path` by the current task: the attribute's text, or a negative errno (-ENOENT when the
 * file does not exist). The fw_upload `status` file shows the upload's progress.
 */
export function* sysfsRead(h: Host, path: string): Generator<Yield, string | number, void> {
  if (path === `${TDX_HOST_DIR}/version` && sysfsExists(h, path)) return yield* versionShowTask(h);
  const attr = seamldrAttr(h, path);
  if (attr !== null) return yield* seamldrAttrShow(h, h.sched.current?.cpu ?? 0, attr);
  const f = fwFile(h, path);
  if (f?.file === 'status') return f.fw.progress;
  if (f?.file === 'error') return fwError(f.fw);
  return -ENOENT;
}

/**
 * `echo 1 > loading; cat image > data; echo 0 > loading` in the fw node at `node`. When the
 * upload starts, fw_upload_start() has queued fw_upload_main() on system_long_wq: it runs as
 * its own task (on CPU 0, which is always online), as properties/commands.ts runs it.
 */
export function sysfsLoad(h: Host, node: string, bytes: Uint8Array): LoadResult | number {
  const f = fwFile(h, `${node}/loading`);
  if (f === null) return -ENOENT;
  const r = fwLoad(h, f.fw, bytes);
  if (r === 'started') spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, f.fw));
  return r;
}
