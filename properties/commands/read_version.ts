// read_version: `cat /sys/devices/faux/tdx_host/version`.
import fc from 'fast-check';
import { versionShowTask } from '../../impl/kernel/tdx_host.ts';
import { readVersion } from '../../model/host.ts';
import type { CommandSpec } from './spec.ts';
import { sysfsMatches } from './sysfs.ts';

export interface ReadVersion {
  readonly kind: 'read_version';
}

export const READ_VERSION: CommandSpec<ReadVersion> = {
  kind: 'read_version',
  arbitrary: () => fc.constant({ kind: 'read_version' as const }),
  describe: () => 'read(version)',
  issue: ({ h }) => versionShowTask(h),
  response: { read: true, model: (m) => ({ choices: readVersion(m), matches: sysfsMatches }) },
};
