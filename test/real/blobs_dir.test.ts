// Tests for harness/blobs.ts on directories that are not a usable checkout: each is one
// BlobsError line naming the file, and nothing in DIR is written. Built from synthetic blobs
// (no Intel binary needed).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobsError, loadBlobs } from '../../harness/blobs.ts';
import { buildBlobV1, corruptBlobV1 } from '../../impl/firmware/image.ts';
import { identityOf, imageBytes } from '../../properties/images.ts';

const REF = { release: '1.5.08', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false };
// Intel's entry for 1.5.08: a checkout's mapping must say of Intel's releases what data/mapping_file.json does
const MAPPING = JSON.stringify({
  tdx_module_releases: [
    { version: '1.5.08', min_module_version_for_td_preserving: '1.5.01', min_seamldr_versions: ['1.5.00', '2.0.00'], tdx_feature0: '0x22E1F0FBF' },
  ],
});

function checkout(files: Record<string, Uint8Array | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** `dir` with a FIFO at `path` (a file nobody will ever write). */
function withFifo(dir: string, path: string): string {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  execFileSync('mkfifo', [join(dir, path)]);
  return dir;
}

/** What loadBlobs says of `dir`, whose blobs carry the test key (Intel's is `signer` 'intel', the CLI's). */
function problem(dir: string, signer: 'intel' | 'test' = 'test'): string {
  try {
    loadBlobs(dir, signer);
  } catch (e) {
    expect(e).toBeInstanceOf(BlobsError);
    return (e as Error).message;
  }
  throw new Error('loadBlobs accepted the directory');
}

describe('loadBlobs', () => {
  it('reads a well-formed checkout, registers the blob and serves real ImageRefs from it', () => {
    const blob = buildBlobV1(identityOf(REF));
    const dir = checkout({ 'mapping_file.json': MAPPING, 'joined_files/1.5/tdx_module_1.5.08.blob': blob });
    const before = readdirSync(dir, { recursive: true }).sort();
    const loaded = loadBlobs(dir, 'test');
    expect(loaded.blobs.map((b) => b.release)).toEqual(['1.5.08']);
    expect(imageBytes({ ...REF, real: true, corruption: null })).toEqual(blob);
    expect(identityOf({ ...REF, real: true }).nrPages).toBe(identityOf(REF).nrPages);
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(before);
  });
  it.each([
    ['a missing directory', (): string => '/nonexistent/tdx-module-binaries', /^--blobs \/nonexistent\/tdx-module-binaries: no such directory$/],
    ['no mapping_file.json', () => checkout({ 'joined_files/1.5/tdx_module_1.5.08.blob': buildBlobV1(identityOf(REF)) }), /mapping_file\.json: missing/],
    ['a mapping_file.json that is not JSON', () => checkout({ 'mapping_file.json': '{', 'joined_files/1.5/x': '' }), /mapping_file\.json: not JSON/],
    ['no joined_files', () => checkout({ 'mapping_file.json': MAPPING }), /joined_files: no such directory$/],
    ['no blobs', () => checkout({ 'mapping_file.json': MAPPING, 'joined_files/1.5/README': 'x' }), /joined_files: no \*\/tdx_module_\*\.blob files$/],
    [
      'a file that is not a TDX blob',
      () => checkout({ 'mapping_file.json': MAPPING, 'joined_files/1.5/tdx_module_1.5.08.blob': 'hello' }),
      /tdx_module_1\.5\.08\.blob: not a TDX module blob: 5 bytes, too short for a TDX blob$/,
    ],
    [
      'a blob whose module does not match its SEAMHASH',
      () =>
        checkout({
          'mapping_file.json': MAPPING,
          'joined_files/1.5/tdx_module_1.5.08.blob': corruptBlobV1(buildBlobV1(identityOf(REF)), { kind: 'module_bitflip', byte: 9, bit: 1 }),
        }),
      /tdx_module_1\.5\.08\.blob: not a TDX module blob: SEAMHASH does not match the module$/,
    ],
    [
      'a blob with a bad checksum',
      () =>
        checkout({
          'mapping_file.json': MAPPING,
          'joined_files/1.5/tdx_module_1.5.08.blob': corruptBlobV1(buildBlobV1(identityOf(REF)), { kind: 'bad_checksum' }),
        }),
      /checksum does not sum to 0$/,
    ],
    [
      'a release mapping_file.json does not list',
      () => checkout({ 'mapping_file.json': MAPPING, 'joined_files/1.5/tdx_module_1.5.09.blob': buildBlobV1(identityOf(REF)) }),
      /tdx_module_1\.5\.09\.blob: release 1\.5\.09 is not in mapping_file\.json$/,
    ],
    [
      'one release twice',
      () =>
        checkout({
          'mapping_file.json': MAPPING,
          'joined_files/1.5/tdx_module_1.5.08.blob': buildBlobV1(identityOf(REF)),
          'joined_files/old/tdx_module_1.5.08.blob': buildBlobV1(identityOf(REF)),
        }),
      /joined_files: tdx_module_1\.5\.08\.blob twice, in two directories: which is the release\?$/,
    ],
    [
      'more blob files than a run holds',
      () =>
        checkout({
          'mapping_file.json': MAPPING,
          ...Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`joined_files/1.5/tdx_module_1.5.${i}.blob`, ''])),
        }),
      /joined_files: 129 blob files, more than the 128 a run holds$/,
    ],
    [
      'a blob that is a FIFO, without waiting for a writer',
      () => withFifo(checkout({ 'mapping_file.json': MAPPING }), 'joined_files/1.5/tdx_module_1.5.08.blob'),
      /tdx_module_1\.5\.08\.blob: not a regular file \(a FIFO, socket or device\), not a TDX module blob$/,
    ],
    [
      'a mapping_file.json that is a FIFO',
      () => withFifo(checkout({ 'joined_files/1.5/tdx_module_1.5.08.blob': buildBlobV1(identityOf(REF)) }), 'mapping_file.json'),
      /mapping_file\.json: not a regular file \(a FIFO, socket or device\), not a mapping file$/,
    ],
    [
      'a mapping_file.json of control bytes',
      () => checkout({ 'mapping_file.json': '\u001b[2J\n', 'joined_files/1.5/x': '' }),
      /mapping_file\.json: not JSON \(Unexpected token '\\u001b', "\\u001b\[2J\\u000a" is not valid JSON\)$/,
    ],
    [
      'a mapping_file.json whose loader versions are not versions',
      () => checkout({ 'mapping_file.json': MAPPING.replace('["1.5.00","2.0.00"]', '[150]'), 'joined_files/1.5/x': '' }),
      /mapping_file\.json: release 0: min_seamldr_versions is not a list of versions like "1\.5\.00"$/,
    ],
    [
      "a mapping that says of one of Intel's releases what Intel's does not (the model would read Intel's)",
      () => checkout({ 'mapping_file.json': MAPPING.replace('0x22E1F0FBF', '0x0'), 'joined_files/1.5/x': '' }),
      /mapping_file\.json: release 1\.5\.08 is not as Intel's mapping \(data\/mapping_file\.json\) has it$/,
    ],
    [
      'a mapping that lists a release twice',
      () => {
        const row = (JSON.parse(MAPPING) as { tdx_module_releases: unknown[] }).tdx_module_releases[0];
        return checkout({ 'mapping_file.json': JSON.stringify({ tdx_module_releases: [row, row] }), 'joined_files/1.5/x': '' });
      },
      /mapping_file\.json: release 1\.5\.08 is listed twice$/,
    ],
  ] as const)('refuses %s with one line naming the file', (_name, make, message) => {
    const m = problem(make());
    expect(m).toMatch(message);
    expect(m).not.toContain('\n');
  });
  it("as a checkout of Intel's (the CLI's --blobs) refuses a blob signed with another key: a run would report its refusal as a counterexample", () => {
    const dir = checkout({ 'mapping_file.json': MAPPING, 'joined_files/1.5/tdx_module_1.5.08.blob': buildBlobV1(identityOf(REF)) });
    expect(problem(dir, 'intel')).toMatch(
      /tdx_module_1\.5\.08\.blob: not Intel's module 1\.5\.08: signed with another key \(the modulus's SHA-384 is not the intel key's\)$/,
    );
  });
});
