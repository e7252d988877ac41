// Every command kind, one file each. Adding a command is a new file and one line in COMMANDS
// (and its data type in Command); the generators, the runner, the corpus and the coverage
// table take it from here.
import { CANCEL, type Cancel } from './cancel.ts';
import { CPU_OFFLINE, type CpuOffline } from './cpu_offline.ts';
import { CPU_ONLINE, type CpuOnline } from './cpu_online.ts';
import { READ_ERROR, type ReadError } from './read_error.ts';
import { READ_SEAMLDR, type ReadSeamldr } from './read_seamldr.ts';
import { READ_STATUS, type ReadStatus } from './read_status.ts';
import { READ_VERSION, type ReadVersion } from './read_version.ts';
import type { CommandSpec, LinActions } from './spec.ts';
import { TD_ADD_PAGE, type TdAddPage } from './td_add_page.ts';
import { TD_CREATE, type TdCreate } from './td_create.ts';
import { TD_FINALIZE, type TdFinalize } from './td_finalize.ts';
import { TD_RUN, type TdRun } from './td_run.ts';
import { TD_TEARDOWN, type TdTeardown } from './td_teardown.ts';
import { TOOL_UPDATE, type ToolUpdate } from './tool_update.ts';
import { UPLOAD, type Upload } from './upload.ts';

export type Command =
  | Upload
  | Cancel
  | ReadError
  | ReadStatus
  | ReadVersion
  | ReadSeamldr
  | CpuOffline
  | CpuOnline
  | TdCreate
  | TdAddPage
  | TdFinalize
  | TdRun
  | TdTeardown
  | ToolUpdate;

export type CommandKind = Command['kind'];

type Specs = { readonly [K in CommandKind]: CommandSpec<Extract<Command, { kind: K }>> };

const COMMANDS: Specs = {
  upload: UPLOAD,
  cancel: CANCEL,
  read_error: READ_ERROR,
  read_status: READ_STATUS,
  read_version: READ_VERSION,
  read_seamldr: READ_SEAMLDR,
  cpu_offline: CPU_OFFLINE,
  cpu_online: CPU_ONLINE,
  td_create: TD_CREATE,
  td_add_page: TD_ADD_PAGE,
  td_finalize: TD_FINALIZE,
  td_run: TD_RUN,
  td_teardown: TD_TEARDOWN,
  tool_update: TOOL_UPDATE,
};

export const COMMAND_KINDS = Object.keys(COMMANDS) as readonly CommandKind[];

/** The command's record, typed for its data. */
export function commandSpec<C extends Command>(c: C): CommandSpec<C> {
  return COMMANDS[c.kind as CommandKind] as unknown as CommandSpec<C>;
}

export function isCommandKind(k: string): k is CommandKind {
  return Object.hasOwn(COMMANDS, k);
}

/** The injected fault a command carries, by its `--list` name (the coverage table's `fault NAME`). */
export function faultName(c: Command): string | null {
  if (c.kind === 'upload') return c.fault && (c.fault.kind === 'leaf' ? c.fault.leaf : c.fault.kind);
  return ('fault' in c && c.fault) || null;
}

/** A command as a call, for counterexamples. */
export function describe(c: Command): string {
  return commandSpec(c).describe(c);
}

/** The model action of every linearization point the emulator reports, from the command that owns it. */
export const LIN_ACTIONS = Object.assign({}, ...Object.values(COMMANDS).map((s) => s.lins ?? {})) as LinActions;

export { COMMANDS };
export type { GuestStore } from './td_run.ts';
export { pageContent } from './td.ts';
