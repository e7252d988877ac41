// The operator's selection policy: which published TDX module may replace the running one as
// a TD-preserving update. The kernel applies no version policy; userspace does, from Intel's
// mapping_file.json and the modules' sigstructs (spec §3.5 [BIN README, mapping_file.json;
// LX-doc]). Written from the rules of spec §3.5, not from Intel's script.
// Mirrors: the selection step of an operator's update tool; nothing in the kernel.
//
// impl/ reads no files: the mapping entries and the sigstruct facts come in as parameters
// (properties/releases.ts and harness/select.ts load them).

export interface TdxVersion {
  readonly major: number;
  readonly minor: number;
  readonly update: number;
}

/** One release of mapping_file.json. */
export interface MappingEntry {
  readonly version: string;
  /** The oldest running module a TD-preserving update to this release may replace. */
  readonly minModuleVersionForTdPreserving: string;
  /** P-SEAMLDR versions it needs: same major.minor, update at least this. */
  readonly minSeamldrVersions: readonly string[];
}

/** What a release's sigstruct says about where it may run (spec §3.2, sigstruct layout). */
export interface ModuleFacts {
  readonly version: string;
  /** The CPUID table: CPUID(1).EAX values (the stepping is ignored when compared). */
  readonly cpuids: readonly number[];
  /** module_type bit 31: a debug module. */
  readonly debug: boolean;
}

/** What the tool reads on the host, and what the operator allows. */
export interface PlatformFacts {
  /** The running module, from tdx_host `version`. */
  readonly current: string;
  /** The running P-SEAMLDR, from its version attribute. */
  readonly seamldr: string;
  /** CPUID(1).EAX. */
  readonly cpu: number;
  readonly allowDebug: boolean;
}

/** One candidate with each rule's verdict; `reasons` says why it is not loadable. */
export interface Candidate {
  readonly version: string;
  readonly seamldrOk: boolean;
  readonly cpuOk: boolean;
  readonly debug: boolean;
  readonly tdPreserving: boolean;
  readonly loadable: boolean;
  readonly reasons: readonly string[];
}

export interface Selection {
  readonly candidates: readonly Candidate[];
  /** The default choice, or null when nothing is loadable. */
  readonly choice: string | null;
}

/** "major.minor.update" with each part in the range of its field (u8, u8, u16), or null. */
export function parseTdxVersion(s: string): TdxVersion | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})$/.exec(s);
  if (!m) return null;
  const [major, minor, update] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major <= 0xff && minor <= 0xff && update <= 0xffff ? { major, minor, update } : null;
}

function mustParse(s: string): TdxVersion {
  const v = parseTdxVersion(s);
  if (v === null) throw new Error(`not a TDX version: '${s}'`);
  return v;
}

/** TDX_VERSION_FMT, "%u.%u.%02u", as tdx_host prints it. */
export function formatTdxVersion(v: TdxVersion): string {
  return `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
}

const family = (v: TdxVersion) => `${v.major}.${v.minor}`;
const hex = (n: number) => `0x${n.toString(16)}`;

/** CPUID(1).EAX without the stepping (bits 3:0): modules are built per family and model. */
const CPUID_STEPPING_MASK = 0xfffffff0;
const masked = (eax: number) => (eax & CPUID_STEPPING_MASK) >>> 0;

/** Rule 1: some min_seamldr_versions entry has the running P-SEAMLDR's major.minor and an update not above it. */
function seamldrReason(e: MappingEntry, seamldr: TdxVersion): string | null {
  const ok = e.minSeamldrVersions.map(mustParse).some((v) => family(v) === family(seamldr) && v.update <= seamldr.update);
  if (ok) return null;
  const needs = e.minSeamldrVersions.map((v) => `${v} or a later ${family(mustParse(v))}.x`).join(', or ');
  return `P-SEAMLDR ${formatTdxVersion(seamldr)} cannot load it: it needs P-SEAMLDR ${needs}`;
}

/** Rule 2: the CPU's family and model (stepping masked) are in the sigstruct's CPUID table. */
function cpuReason(f: ModuleFacts | undefined, cpu: number): string | null {
  if (f === undefined) return 'no sigstruct for this release, so its CPUID table is unknown';
  if (f.cpuids.some((c) => masked(c) === masked(cpu))) return null;
  return `not built for this CPU: family/model ${hex(masked(cpu))} (stepping ignored) is not in its CPUID table (${f.cpuids.map(hex).join(', ')})`;
}

/**
 * Rule 4, relative to the running version R: a z-stream update (same major.minor), not a
 * downgrade (re-installing R is allowed), and R not older than the release's
 * min_module_version_for_td_preserving (its update field, as spec §3.5 states the rule).
 */
function tdPreservingReason(e: MappingEntry, cur: TdxVersion): string | null {
  const m = mustParse(e.version),
    min = mustParse(e.minModuleVersionForTdPreserving);
  if (family(m) !== family(cur))
    return `not TD-preserving: only a ${family(cur)}.x release can replace the running ${formatTdxVersion(cur)} (z-stream updates only)`;
  if (m.update < cur.update) return `not TD-preserving: older than the running ${formatTdxVersion(cur)} (a downgrade)`;
  if (min.update > cur.update) return `not TD-preserving: this release needs a running ${e.minModuleVersionForTdPreserving} or newer`;
  return null;
}

function judge(e: MappingEntry, f: ModuleFacts | undefined, p: PlatformFacts, cur: TdxVersion, seamldr: TdxVersion): Candidate {
  const s = seamldrReason(e, seamldr),
    c = cpuReason(f, p.cpu),
    t = tdPreservingReason(e, cur);
  const debug = f?.debug ?? false;
  // Rule 3: a debug module only when the operator allows it.
  const d = debug && !p.allowDebug ? 'a debug module: allowed only with --allow-debug' : null;
  const reasons = [s, c, d, t].filter((r): r is string => r !== null);
  return { version: e.version, seamldrOk: s === null, cpuOk: c === null, debug, tdPreserving: t === null, loadable: reasons.length === 0, reasons };
}

/**
 * Every release of the mapping judged by the four rules, and the default choice: the
 * loadable (so TD-preserving-capable) release with the highest update (spec §3.5).
 * Throws on a malformed version (the callers validate their input first).
 */
export function selectModule(p: PlatformFacts, mapping: readonly MappingEntry[], facts: readonly ModuleFacts[]): Selection {
  const cur = mustParse(p.current),
    seamldr = mustParse(p.seamldr);
  const byVersion = new Map(facts.map((f) => [f.version, f]));
  const candidates = mapping.map((e) => judge(e, byVersion.get(e.version), p, cur, seamldr));
  let choice: Candidate | null = null;
  for (const c of candidates) {
    if (c.loadable && (choice === null || mustParse(c.version).update > mustParse(choice.version).update)) choice = c;
  }
  return { candidates, choice: choice?.version ?? null };
}
