// cancel: `echo 1 > cancel` on the fw_upload node.
import fc from 'fast-check';
import { fwCancel } from '../../impl/kernel/fw_upload.ts';
import { cancel } from '../../model/update.ts';
import { exactly, type CommandSpec } from './spec.ts';

export interface Cancel {
  readonly kind: 'cancel';
}

export const CANCEL: CommandSpec<Cancel> = {
  kind: 'cancel',
  needsFw: true,
  arbitrary: () => fc.constant({ kind: 'cancel' as const }),
  describe: () => 'cancel()',
  issue: ({ h }) =>
    (function* () {
      return fwCancel(h, h.tdxHost.fw!, '1');
    })(),
  response: { read: false, model: (m) => exactly(cancel(m)) },
};
