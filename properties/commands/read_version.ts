// read_version: `cat /sys/devices/faux/tdx_host/version`.
import fc from 'fast-check';
import { sysfsRead, TDX_HOST_DIR } from '../../impl/userspace/sysfs.ts';
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
  issue: ({ h }) => sysfsRead(h, `${TDX_HOST_DIR}/version`),
  response: { read: true, model: (m) => ({ choices: readVersion(m), matches: sysfsMatches }) },
};
