// read_error: `cat error` on the fw_upload node.
import fc from 'fast-check';
import { fwError } from '../../impl/kernel/fw_upload.ts';
import { readError } from '../../model/update.ts';
import { same, type CommandSpec } from './spec.ts';

export interface ReadError {
  readonly kind: 'read_error';
}

export const READ_ERROR: CommandSpec<ReadError> = {
  kind: 'read_error',
  needsFw: true,
  arbitrary: () => fc.constant({ kind: 'read_error' as const }),
  describe: () => 'read(error)',
  issue: ({ h }) =>
    (function* () {
      return fwError(h.tdxHost.fw!);
    })(),
  response: { read: true, model: (m) => ({ choices: readError(m), matches: same }) },
};
