// `--blobs DIR`: a checkout of intel/tdx-module-binaries (joined_files/*/tdx_module_*.blob and
// mapping_file.json), only read. Each blob is decoded and checked, its build registered by
// SEAMHASH, and its bytes handed to properties/images.ts for real ImageRefs. Anything wrong
// with the directory is a BlobsError: one line naming the file; the CLI exits 2 on it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PAGE_SIZE, SEAMLDR_MAX_NR_MODULE_PAGES } from '../impl/firmware/abi.ts';
import { BLOB_V1, checksum16 } from '../impl/firmware/image.ts';
import { parseSigstruct, sha384, SIGSTRUCT_SIZE, sigstructFieldsValid, sigstructSignatureValid, toHex, type Sigstruct } from '../impl/firmware/sigstruct.ts';
import { MAPPING } from '../properties/releases.ts';
import { REAL_SIGSTRUCTS, registerRealRelease, TRUST_ANCHORS, useRealBlobs, type TrustAnchor } from '../properties/images.ts';
import { readRegular } from './files.ts';
import { printable } from './schema.ts';

/** A problem with --blobs DIR or a file in it, as one line. */
export class BlobsError extends Error {}

export interface RealBlob {
  readonly file: string;
  readonly release: string;
  readonly bytes: Uint8Array;
  readonly sigstruct: Sigstruct;
  readonly seamhash: string;
}

/** One release of mapping_file.json, in the names properties/releases.ts uses. */
export interface MappingRelease {
  readonly version: string;
  readonly minModuleVersionForTdPreserving: string;
  readonly minSeamldrVersions: readonly string[];
  readonly features0: bigint;
}

export interface LoadedBlobs {
  readonly dir: string;
  readonly blobs: readonly RealBlob[];
  readonly mapping: readonly MappingRelease[];
}

// The largest blob the v1 format can hold: header, sigstruct page, 496 module pages. Reading
// stops one byte past it, so a stray huge file cannot exhaust memory.
const MAX_BLOB_BYTES = BLOB_V1.OFF_MODULE + SEAMLDR_MAX_NR_MODULE_PAGES * PAGE_SIZE;
// Every blob is held in memory for the run: at most 128 of them (256 MiB at the most; Intel's
// repository has 11, of 0.6 MiB each).
export const MAX_BLOBS = 128;
const BLOB_NAME = /^tdx_module_(\d+\.\d+\.\d+)\.blob$/;
const VERSION = /^\d+\.\d+\.\d+$/;

/** Intel's file is 2 KiB; a megabyte is a thousand releases. */
const MAX_MAPPING_BYTES = 1 << 20;

/** files.ts readRegular, its refusal a BlobsError. */
function readChecked(file: string, limit: number, kind: string, tooBig?: string): Buffer {
  return readRegular(file, limit, kind, { tooBig, refuse: (m) => new BlobsError(m) });
}

function readMapping(dir: string): MappingRelease[] {
  const file = join(dir, 'mapping_file.json');
  if (!existsSync(file)) throw new BlobsError(`${file}: missing (--blobs DIR must be laid out like intel/tdx-module-binaries)`);
  const text = readChecked(file, MAX_MAPPING_BYTES, 'a mapping file').toString('utf8');
  let rows: unknown;
  try {
    rows = (JSON.parse(text) as { tdx_module_releases?: unknown } | null)?.tdx_module_releases;
  } catch (e) {
    throw new BlobsError(`${file}: not JSON (${printable((e as Error).message)})`);
  }
  if (!Array.isArray(rows)) throw new BlobsError(`${file}: no tdx_module_releases list`);
  return rows.map((r: Record<string, unknown>, i) => {
    const ok =
      typeof r?.version === 'string' &&
      VERSION.test(r.version) &&
      typeof r.min_module_version_for_td_preserving === 'string' &&
      VERSION.test(r.min_module_version_for_td_preserving) &&
      typeof r.tdx_feature0 === 'string' &&
      /^0x[0-9a-f]{1,16}$/i.test(r.tdx_feature0);
    if (!ok) throw new BlobsError(`${file}: release ${i} lacks version, min_module_version_for_td_preserving or tdx_feature0`);
    const loaders = r.min_seamldr_versions ?? [];
    if (!Array.isArray(loaders) || !loaders.every((v) => typeof v === 'string' && VERSION.test(v)))
      throw new BlobsError(`${file}: release ${i}: min_seamldr_versions is not a list of versions like "1.5.00"`);
    return {
      version: r.version as string,
      minModuleVersionForTdPreserving: r.min_module_version_for_td_preserving as string,
      minSeamldrVersions: loaders as string[],
      features0: BigInt(r.tdx_feature0 as string),
    };
  });
}

/**
 * A release listed twice, or one of Intel's said otherwise than Intel's mapping says it
 * (data/mapping_file.json, where the model's facts of those releases come from): the emulated
 * module would follow one reading and the model the other, and their difference would come out
 * as counterexamples. A release Intel's file does not have yet is taken as DIR says.
 */
function mappingProblem(mapping: readonly MappingRelease[]): string | null {
  const facts = (r: MappingRelease) => `${r.minModuleVersionForTdPreserving} ${r.minSeamldrVersions.join(',')} ${r.features0}`;
  for (const [i, r] of mapping.entries()) {
    if (mapping.findIndex((x) => x.version === r.version) !== i) return `release ${r.version} is listed twice`;
    const intel = MAPPING.find((x) => x.version === r.version);
    if (intel && facts(intel) !== facts(r)) return `release ${r.version} is not as Intel's mapping (data/mapping_file.json) has it`;
  }
  return null;
}

/** joined_files/<line>/tdx_module_<version>.blob, sorted. */
function listBlobFiles(dir: string): string[] {
  const joined = join(dir, 'joined_files');
  if (!existsSync(joined) || !statSync(joined).isDirectory()) throw new BlobsError(`${joined}: no such directory`);
  const files = readdirSync(joined, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(joined, d.name))
        .filter((f) => BLOB_NAME.test(f))
        .map((f) => join(joined, d.name, f)),
    );
  if (files.length === 0) throw new BlobsError(`${joined}: no */tdx_module_*.blob files`);
  if (files.length > MAX_BLOBS) throw new BlobsError(`${joined}: ${files.length} blob files, more than the ${MAX_BLOBS} a run holds`);
  const names = files.map((f) => basename(f)).sort();
  const twice = names.find((name, i) => names[i + 1] === name);
  if (twice) throw new BlobsError(`${joined}: ${twice} twice, in two directories: which is the release?`);
  return files.sort();
}

/** Why `b` is not a well-formed, self-consistent v1 TDX blob, or null (spec §3.2, data/README.md). */
export function blobV1Problem(b: Uint8Array): string | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < BLOB_V1.OFF_MODULE + PAGE_SIZE) return `${b.length} bytes, too short for a TDX blob`;
  if (String.fromCharCode(...b.subarray(BLOB_V1.OFF_SIGNATURE, BLOB_V1.OFF_SIGNATURE + 8)) !== BLOB_V1.SIGNATURE) return 'no "TDX-BLOB" signature';
  if (v.getUint16(BLOB_V1.OFF_VERSION, true) !== BLOB_V1.VERSION) return `version 0x${v.getUint16(0, true).toString(16)}, not 0x100`;
  if (v.getUint32(BLOB_V1.OFF_LENGTH, true) !== b.length) return 'length field differs from the file size';
  if (checksum16(b) !== 0) return 'checksum does not sum to 0';
  if (v.getUint32(BLOB_V1.OFF_OFFSET_OF_MODULE, true) !== BLOB_V1.OFF_MODULE) return 'offset_of_module is not 8192';
  if ((b.length - BLOB_V1.OFF_MODULE) % PAGE_SIZE) return 'module size is not a multiple of 4 KiB';
  const sig = parseSigstruct(b.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_SIGSTRUCT + SIGSTRUCT_SIZE));
  if (!sigstructFieldsValid(sig)) return 'no well-formed SEAM sigstruct at offset 4096';
  if (toHex(sig.seamhash) !== toHex(sha384(b.subarray(BLOB_V1.OFF_MODULE)))) return 'SEAMHASH does not match the module';
  return null;
}

function readBlob(file: string, mapping: readonly MappingRelease[], signer: TrustAnchor): RealBlob {
  const bytes = new Uint8Array(readChecked(file, MAX_BLOB_BYTES, 'a TDX module blob', 'larger than any TDX blob'));
  const problem = blobV1Problem(bytes);
  if (problem) throw new BlobsError(`${file}: not a TDX module blob: ${problem}`);
  const release = BLOB_NAME.exec(file.split('/').at(-1)!)![1]!;
  const m = mapping.find((r) => r.version === release);
  if (!m) throw new BlobsError(`${file}: release ${release} is not in mapping_file.json`);
  const sigstructBytes = bytes.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_SIGSTRUCT + SIGSTRUCT_SIZE);
  const sigstruct = parseSigstruct(sigstructBytes);
  const foreign = notSignedBy(signer, sigstructBytes, sigstruct, release);
  if (foreign) throw new BlobsError(`${file}: not ${signer === 'intel' ? "Intel's" : 'a test-key'} module ${release}: ${foreign}`);
  return { file, release, bytes, sigstruct, seamhash: toHex(sigstruct.seamhash) };
}

/**
 * Why a well-formed blob is not signed by `signer`: a run treats every --blobs blob as Intel's
 * (the model expects an Intel-trusting P-SEAMLDR to take it), so one signed with another key
 * would be reported as a counterexample. P-SEAMLDR's signer checks (spec §3.3: the modulus is
 * the trusted key's, the RSA signature verifies), and for Intel's, where
 * data/real-sigstructs.json records the release, its SEAMHASH.
 */
function notSignedBy(signer: TrustAnchor, bytes: Uint8Array, sig: Sigstruct, release: string): string | null {
  if (toHex(sha384(sig.modulus)) !== TRUST_ANCHORS[signer]) return `signed with another key (the modulus's SHA-384 is not the ${signer} key's)`;
  if (!sigstructSignatureValid(bytes)) return 'its RSA signature does not verify';
  if (signer === 'test') return null;
  const known = REAL_SIGSTRUCTS.releases.find((r) => r.release === release);
  if (known && known.seamhash !== toHex(sig.seamhash)) return `its SEAMHASH is not that of Intel's ${release} (another release renamed?)`;
  const same = REAL_SIGSTRUCTS.releases.find((r) => r.seamhash === toHex(sig.seamhash));
  if (same && same.release !== release) return `its SEAMHASH is that of Intel's ${same.release} (renamed?)`;
  return null;
}

/**
 * Reads and checks DIR, registers each blob's build under its SEAMHASH (version from the file
 * name, features and TD-preserving minimum from mapping_file.json) and hands the bytes to the
 * image builder. Throws BlobsError on the first problem. `signer`: whose key the blobs carry,
 * Intel's for a checkout of intel/tdx-module-binaries (the CLI); the test key for synthetic ones.
 */
export function loadBlobs(dir: string, signer: TrustAnchor = 'intel'): LoadedBlobs {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BlobsError(`--blobs ${dir}: no such directory`);
  const mapping = readMapping(dir);
  const problem = mappingProblem(mapping);
  if (problem) throw new BlobsError(`${join(dir, 'mapping_file.json')}: ${problem}`);
  const blobs = listBlobFiles(dir).map((f) => readBlob(f, mapping, signer));
  for (const b of blobs) {
    registerRealRelease(b.release, b.seamhash, b.sigstruct.numHandoffPages, mapping.find((r) => r.version === b.release)!);
  }
  useRealBlobs(new Map(blobs.map((b) => [b.release, b.bytes])));
  return { dir, blobs, mapping };
}
