// Reading a version from sysfs: TDX_VERSION_FMT "%u.%u.%02u" (spec §2.2, §6), the ABI userspace
// parses. Results the model states as a Version match text in that format.
import type { Version } from '../../model/types.ts';

const FORMAT = /^(\d+)\.(\d+)\.(\d{2,})$/;

export function parseSysfsVersion(text: string): Version | null {
  const m = FORMAT.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), update: Number(m[3]) } : null;
}

/** A sysfs read against an allowed result: an errno, a count, or a version. */
export function sysfsMatches(allowed: unknown, actual: unknown): boolean {
  if (typeof allowed === 'number') return actual === allowed || actual === String(allowed);
  const v = typeof actual === 'string' ? parseSysfsVersion(actual) : null;
  const a = allowed as Version;
  return v !== null && v.major === a.major && v.minor === a.minor && v.update === a.update;
}
