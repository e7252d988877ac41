// read_status: `cat status` on the fw_upload node, what Intel's load script polls until it
// reads idle (spec §1, §4.2).
import fc from 'fast-check';
import { readStatus } from '../../model/update.ts';
import { same, type CommandSpec } from './spec.ts';

export interface ReadStatus {
  readonly kind: 'read_status';
}

export const READ_STATUS: CommandSpec<ReadStatus> = {
  kind: 'read_status',
  needsFw: true,
  arbitrary: () => fc.constant({ kind: 'read_status' as const }),
  describe: () => 'read(status)',
  issue: ({ h }) =>
    (function* () {
      return h.tdxHost.fw!.progress;
    })(),
  response: { read: true, model: (m) => ({ choices: readStatus(m), matches: same }) },
};
