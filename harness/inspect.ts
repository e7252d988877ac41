// `npm run inspect -- FILE [--kernel v2|upstream] [--trust intel|test] [--json]`: what a user runs
// on a module blob before loading it. It prints the container format and header fields, each
// check of the emulated kernel and of P-SEAMLDR in their order with the value read, the SEAMSVN,
// the CPUID table, and the release if the SEAMHASH is a known one.
//
// Exit codes: 0 both the kernel and P-SEAMLDR would accept it (or --help); 1 one of them rejects
// it; 2 a file it cannot read, or bad usage (one line on stderr, no stack trace).
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PAGE_SIZE, SEAMLDR_EBADHASH, SEAMLDR_MAX_NR_MODULE_PAGES } from '../impl/firmware/abi.ts';
import * as abi from '../impl/firmware/abi.ts';
import { readElf64Header } from '../impl/firmware/elf.ts';
import { checksum16 } from '../impl/firmware/image.ts';
import { manifestChecks, parseSigstruct, sha384, SIGSTRUCT_SIZE, toHex, type Sigstruct } from '../impl/firmware/sigstruct.ts';
import { NO_BUGS } from '../impl/faults.ts';
import { bootHost, type Host } from '../impl/host.ts';
import { parseBlobV1, parseImageV2 } from '../impl/kernel/seamldr.ts';
import { type Revision } from '../impl/kernel/revision.ts';
import { UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../properties/revisions/index.ts';
import { REAL_SIGSTRUCTS, TRUST_ANCHORS, type TrustAnchor } from '../properties/images.ts';
import { hostConfig } from '../properties/scenario.ts';
import { HelpRequest, UsageError } from './cli/args.ts';
import { readRegular } from './files.ts';
import { argvError, errorLine, show } from './schema.ts';

export class InspectError extends Error {}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly value: string;
}

export interface InspectReport {
  readonly file: string;
  readonly format: 'v1' | 'v2' | 'unknown';
  readonly release: string | null;
  readonly header: Readonly<Record<string, string>>;
  readonly kernel: { readonly name: string; readonly accepted: boolean; readonly errno: number; readonly checks: readonly Check[] };
  readonly pseamldr: { readonly trust: TrustAnchor; readonly accepted: boolean; readonly status: string; readonly checks: readonly Check[] };
}

// A v2 image holds at most a header, one sigstruct page and 496 module pages; anything larger is
// refused before it is read, so a stray huge file cannot exhaust memory.
const MAX_FILE_BYTES = (2 + SEAMLDR_MAX_NR_MODULE_PAGES + 1) * PAGE_SIZE;
const HEADER = 4096;
const hex = (x: number | bigint) => '0x' + x.toString(16);
const STATUS_NAMES = new Map(
  Object.entries(abi)
    .filter(([k, v]) => typeof v === 'bigint' && k.startsWith('SEAMLDR_E'))
    .map(([k, v]) => [v as bigint, k.slice('SEAMLDR_'.length)]),
);

function le(b: Uint8Array, off: number, n: number): number {
  let x = 0;
  for (let i = n - 1; i >= 0; i--) x = x * 256 + (b[off + i] ?? 0);
  return x;
}
const text = (b: Uint8Array, off: number, n: number) => String.fromCharCode(...b.subarray(off, off + n)).replace(/[^\x20-\x7e]/g, '.');
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/** The kernel's v1 checks in parseBlobV1's order (impl/kernel/seamldr.ts). */
function kernelChecksV1(b: Uint8Array): Check[] {
  const offset = le(b, 4, 4),
    moduleSize = b.length - offset;
  return [
    { name: 'at least a 4 KiB header', ok: b.length >= HEADER, value: `${b.length} bytes` },
    { name: 'version 0x100', ok: le(b, 0, 2) === 0x100, value: hex(le(b, 0, 2)) },
    { name: 'checksum sums to 0', ok: checksum16(b) === 0, value: hex(checksum16(b)) },
    { name: 'length field equals the size', ok: le(b, 16, 4) === b.length, value: String(le(b, 16, 4)) },
    { name: 'signature "TDX-BLOB"', ok: text(b, 8, 8) === 'TDX-BLOB', value: text(b, 8, 8) },
    { name: 'reserved0 and reserved1 zero', ok: zero(b, 20, HEADER), value: zero(b, 20, HEADER) ? 'zero' : 'non-zero' },
    { name: 'one sigstruct page', ok: offset - HEADER === PAGE_SIZE, value: `offset_of_module ${offset}` },
    {
      name: 'module 1..496 whole pages',
      ok: moduleSize > 0 && moduleSize <= SEAMLDR_MAX_NR_MODULE_PAGES * PAGE_SIZE && moduleSize % PAGE_SIZE === 0,
      value: `${moduleSize} bytes`,
    },
  ];
}

/** The merged kernel's v2 checks in parseImageV2's order. */
function kernelChecksV2(b: Uint8Array): Check[] {
  const s = le(b, 12, 4),
    m = le(b, 16, 4);
  const total = (HEADER + ((s * PAGE_SIZE) >>> 0) + ((m * PAGE_SIZE) >>> 0)) >>> 0;
  return [
    { name: 'at least a 4 KiB header', ok: b.length >= HEADER, value: `${b.length} bytes` },
    { name: 'header + pages equals the size', ok: total === b.length, value: `4096 + ${s} + ${m} pages = ${total}` },
    { name: 'version 0x200', ok: le(b, 0, 2) === 0x200, value: hex(le(b, 0, 2)) },
    { name: 'at most 1 sigstruct and 496 module pages', ok: s <= 1 && m <= SEAMLDR_MAX_NR_MODULE_PAGES, value: `${s}, ${m}` },
    { name: 'signature "TDX-BLOB"', ok: text(b, 4, 8) === 'TDX-BLOB', value: text(b, 4, 8) },
    { name: 'reserved zero', ok: zero(b, 20, HEADER), value: zero(b, 20, HEADER) ? 'zero' : 'non-zero' },
  ];
}

function formatOf(b: Uint8Array): InspectReport['format'] {
  if (b.length >= 16 && le(b, 0, 2) === 0x100 && text(b, 8, 8) === 'TDX-BLOB') return 'v1';
  if (b.length >= 16 && le(b, 0, 2) === 0x200 && text(b, 4, 8) === 'TDX-BLOB') return 'v2';
  return 'unknown';
}

// The emulated kernel's own parser decides; the check list above says why.
function kernelVerdict(b: Uint8Array, rev: Revision): number {
  const h: Host = bootHost(
    hostConfig({ nrCpus: 1, boot: { release: '1.5.08', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1, debugUnlocked: false }),
    rev,
    NO_BUGS,
  );
  const pas = h.mem.allocPages(Math.ceil(b.length / PAGE_SIZE));
  pas.forEach((pa, i) => h.mem.page(pa)!.set(b.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
  const img = { pas, len: b.length };
  return (rev.imageFormat === 'v1' ? parseBlobV1(h, img) : parseImageV2(h, img)).ret;
}

/** Where the sigstruct and the module sit, by the container's own fields; null if they do not fit. */
function layout(b: Uint8Array, format: InspectReport['format']): { sig: Uint8Array; module: Uint8Array } | null {
  if (format === 'unknown') return null;
  const moduleOff = format === 'v1' ? le(b, 4, 4) : HEADER + le(b, 12, 4) * PAGE_SIZE;
  if (b.length < HEADER + SIGSTRUCT_SIZE || moduleOff > b.length || moduleOff < HEADER + SIGSTRUCT_SIZE) return null;
  return { sig: b.slice(HEADER, HEADER + SIGSTRUCT_SIZE), module: b.subarray(moduleOff) };
}

function pseamldrChecks(sig: Sigstruct, sigBytes: Uint8Array, module: Uint8Array, trust: TrustAnchor): { checks: Check[]; status: string } {
  const all = manifestChecks(sig, sigBytes, {
    layout: '2.0',
    trustedKeyHash: TRUST_ANCHORS[trust],
    debugUnlocked: false,
    runningSeamsvn: null,
    cpuFms: null,
    moduleBytes: module.length,
  });
  const hashOk = toHex(sha384(module)) === toHex(sig.seamhash);
  all.push({ name: 'SEAMHASH matches the module', ok: hashOk, value: toHex(sig.seamhash).slice(0, 16) + '…', status: SEAMLDR_EBADHASH });
  const failed = all.find((c) => !c.ok);
  return {
    checks: all.map(({ name, ok, value }) => ({ name, ok, value })),
    status: failed ? (STATUS_NAMES.get(failed.status) ?? hex(failed.status)) : 'SUCCESS',
  };
}

function bcdDate(d: number): string {
  const s = d.toString(16).padStart(8, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

function headerFields(b: Uint8Array, format: InspectReport['format'], sig: Sigstruct | null, module: Uint8Array | null): Record<string, string> {
  const f: Record<string, string> = { size: `${b.length} bytes` };
  if (format === 'v1') Object.assign(f, { version: '0x100', checksum: hex(le(b, 2, 2)), offset_of_module: String(le(b, 4, 4)), length: String(le(b, 16, 4)) });
  if (format === 'v2') Object.assign(f, { version: '0x200', sigstruct_nr_pages: String(le(b, 12, 4)), module_nr_pages: String(le(b, 16, 4)) });
  if (module) {
    const elf = readElf64Header(module);
    f.module = `${module.length / PAGE_SIZE} pages, ${elf ? `ELF64 type ${elf.type} machine ${elf.machine} e_entry ${hex(elf.entry)}` : 'not an ELF64'}`;
  }
  if (sig) {
    Object.assign(f, {
      date: bcdDate(sig.date),
      seamsvn: `${sig.seamsvn >> 8}/${sig.seamsvn & 0xff} (major/minor)`,
      module_type: sig.debug ? 'debug' : 'production',
      rip_offset: hex(sig.ripOffset),
      handoff: `module_hv ${sig.moduleHv}, min_update_hv ${sig.minUpdateHv}, no_downgrade ${sig.noDowngrade ? 1 : 0}, ${sig.numHandoffPages} pages`,
      gdt_idt_offset: hex(sig.gdtIdtOffset),
      fault_wrapper_offset: hex(sig.faultWrapperOffset),
      cpuid_table: sig.cpuidTable.map(hex).join(' ') || 'empty',
    });
    const mv = sig.moduleVersion;
    if (mv.major) f.module_version = `${mv.major}.${mv.minor}.${String(mv.update).padStart(2, '0')} build ${mv.build}`;
  }
  return f;
}

/** Inspects the bytes of one file as `kernel` and a P-SEAMLDR trusting `trust` would see them. */
export function inspectBytes(file: string, b: Uint8Array, kernel: Revision, trust: TrustAnchor): InspectReport {
  const format = formatOf(b);
  const l = layout(b, format);
  const sig = l ? parseSigstruct(l.sig) : null;
  const errno = Math.abs(kernelVerdict(b, kernel));
  const p =
    sig && l
      ? pseamldrChecks(sig, l.sig, l.module, trust)
      : { checks: [{ name: 'a sigstruct to read', ok: false, value: 'none in this file' }], status: 'EBADPARAM' };
  const hash = sig ? toHex(sig.seamhash) : '';
  return {
    file,
    format,
    release: REAL_SIGSTRUCTS.releases.find((r) => r.seamhash === hash)?.release ?? null,
    header: headerFields(b, format, sig, l?.module ?? null),
    kernel: { name: kernel.name, accepted: errno === 0, errno, checks: kernel.imageFormat === 'v1' ? kernelChecksV1(b) : kernelChecksV2(b) },
    pseamldr: { trust, accepted: p.status === 'SUCCESS', status: p.status, checks: p.checks },
  };
}

/** Reads FILE (bounded, files.ts readRegular) and inspects it; an unreadable file is an InspectError. */
export function inspectFile(file: string, kernel: Revision = V2, trust: TrustAnchor = 'intel'): InspectReport {
  const bytes = readRegular(file, MAX_FILE_BYTES, 'a TDX module image', { tooBig: 'larger than any TDX module image', refuse: (m) => new InspectError(m) });
  return inspectBytes(file, new Uint8Array(bytes), kernel, trust);
}

const mark = (ok: boolean) => (ok ? 'pass' : 'FAIL');

export function formatReport(r: InspectReport): string {
  const lines = [`${r.file}: ${r.format === 'unknown' ? 'not a TDX module image' : `TDX module image, ${r.format} container`}`];
  lines.push(`release: ${r.release ?? "unknown SEAMHASH (not one of Intel's published releases)"}`);
  for (const [k, v] of Object.entries(r.header)) lines.push(`  ${k.padEnd(22)} ${v}`);
  lines.push(`kernel (${r.kernel.name}): ${r.kernel.accepted ? 'accepts' : `rejects (-${r.kernel.errno})`}`);
  for (const c of r.kernel.checks) lines.push(`  ${mark(c.ok)}  ${c.name.padEnd(58)} ${c.value}`);
  lines.push(`P-SEAMLDR (trusting the ${r.pseamldr.trust} key): ${r.pseamldr.accepted ? 'accepts' : `rejects (${r.pseamldr.status})`}`);
  for (const c of r.pseamldr.checks) lines.push(`  ${mark(c.ok)}  ${c.name.padEnd(58)} ${c.value}`);
  return lines.join('\n');
}

/** The JSON shape of issue 11: file, format, release, kernel and pseamldr verdicts with their checks. */
export function reportJson(r: InspectReport): string {
  const { file, format, release, kernel, pseamldr } = r;
  return JSON.stringify(
    {
      file,
      format,
      release,
      kernel: { accepted: kernel.accepted, errno: kernel.errno, checks: kernel.checks },
      pseamldr: { accepted: pseamldr.accepted, status: pseamldr.status, checks: pseamldr.checks },
    },
    null,
    2,
  );
}

const USAGE = 'usage: npm run inspect -- FILE [--kernel v2|upstream] [--trust intel|test] [--json]';

/** --kernel's names, in a Map: a plain object would also answer to 'constructor' and '__proto__'. */
const KERNELS = new Map<string, Revision>([
  ['v2', V2],
  ['upstream', UPSTREAM],
]);

function parse(argv: string[]): { file: string; kernel: Revision; trust: TrustAnchor; json: boolean } {
  let a;
  try {
    a = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        kernel: { type: 'string', default: 'v2' },
        trust: { type: 'string', default: 'intel' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(argvError(e));
  }
  if (a.values.help) throw new HelpRequest();
  const kernel = KERNELS.get(a.values.kernel);
  if (!kernel) throw new UsageError(`--kernel must be ${[...KERNELS.keys()].join(' or ')}, not ${show(a.values.kernel)}`);
  if (a.values.trust !== 'intel' && a.values.trust !== 'test') throw new UsageError(`--trust must be intel or test, not ${show(a.values.trust)}`);
  if (a.positionals.length !== 1) throw new UsageError(a.positionals.length ? 'one FILE at a time' : 'needs the FILE to inspect');
  return { file: a.positionals[0]!, kernel, trust: a.values.trust, json: a.values.json };
}

/** The CLI: returns the exit code; output and the one-line error go to the given writers. */
export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    const o = parse(argv);
    const r = inspectFile(o.file, o.kernel, o.trust);
    out(o.json ? reportJson(r) : formatReport(r));
    return r.kernel.accepted && r.pseamldr.accepted ? 0 : 1;
  } catch (e) {
    if (e instanceof HelpRequest) {
      out(USAGE);
      return 0;
    }
    if (!(e instanceof InspectError || e instanceof UsageError)) throw e;
    const line = e instanceof UsageError ? `${e.message} (npm run inspect -- --help)` : e.message;
    err(errorLine(`inspect: ${line}`));
    return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(
    process.argv.slice(2),
    (s) => console.log(s),
    (s) => console.error(s),
  );
}
