// Tests for harness/inspect.ts: its check lists agree with the emulated kernel's parsers and
// P-SEAMLDR's verify_manifest on good and corrupted synthetic images, the verdicts and exit
// codes, the --json shape, --help, and bad files and usage (exit 2, one line). Intel's blobs: test/real.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectBytes, inspectFile, main } from '../../harness/inspect.ts';
import type { ImageCorruption } from '../../impl/firmware/image.ts';
import { UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../properties/revisions/index.ts';
import { imageBytes, type ImageRef } from '../../properties/images.ts';

const REF: ImageRef = { release: '1.5.08', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null };
const dir = mkdtempSync(join(tmpdir(), 'inspect-'));
function file(name: string, bytes: Uint8Array | string): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

const CORRUPTIONS: ImageCorruption[] = [
  { kind: 'truncate', length: 100 },
  { kind: 'bad_checksum' },
  { kind: 'bad_magic' },
  { kind: 'bad_version' },
  { kind: 'bad_length' },
  { kind: 'reserved_nonzero', index: 7 },
  { kind: 'sig_size', pages: 2 },
  { kind: 'module_unaligned' },
  { kind: 'module_too_big' },
  { kind: 'no_module_pages' },
  { kind: 'page_count_overflow', extra: 1 },
  { kind: 'sigstruct_bitflip', byte: 950, bit: 0 },
  { kind: 'module_bitflip', byte: 10, bit: 3 },
  { kind: 'rogue_key' },
];

describe('inspectBytes', () => {
  it.each([
    ['v1', V2],
    ['v2', UPSTREAM],
  ] as const)('accepts a well-formed %s image on its kernel when trusting the test key', (format, kernel) => {
    const r = inspectBytes('x', imageBytes({ ...REF, format }), kernel, 'test');
    expect(r).toMatchObject({ format, release: null, kernel: { accepted: true, errno: 0 }, pseamldr: { accepted: true, status: 'SUCCESS' } });
    expect([...r.kernel.checks, ...r.pseamldr.checks].every((c) => c.ok)).toBe(true);
  });
  it.each([
    ['v1', V2],
    ['v2', UPSTREAM],
  ] as const)('its %s kernel checks fail exactly when the kernel parser rejects', (format, kernel) => {
    for (const c of CORRUPTIONS) {
      const r = inspectBytes('x', imageBytes({ ...REF, format, corruption: c }), kernel, 'test');
      expect(
        r.kernel.checks.every((k) => k.ok),
        c.kind,
      ).toBe(r.kernel.accepted);
    }
  });
  it('names the check P-SEAMLDR fails first, with its status', () => {
    const rogue = inspectBytes('x', imageBytes({ ...REF, corruption: { kind: 'rogue_key' } }), V2, 'test');
    expect(rogue.pseamldr).toMatchObject({ accepted: false, status: 'EBADSIG' });
    expect(rogue.pseamldr.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['signer key hash']);
    const hash = inspectBytes('x', imageBytes({ ...REF, corruption: { kind: 'module_bitflip', byte: 10, bit: 3 } }), V2, 'test');
    expect(hash.pseamldr).toMatchObject({ accepted: false, status: 'EBADHASH' });
    const zeroSvn = inspectBytes('x', imageBytes({ ...REF, svnDelta: -0x107 }), V2, 'test');
    expect(zeroSvn.pseamldr.status).toBe('EUNSUPPORTED');
  });
  it('rejects a synthetic image under the Intel key (signer key hash)', () => {
    const r = inspectBytes('x', imageBytes(REF), V2, 'intel');
    expect(r.pseamldr.checks.find((c) => !c.ok)?.name).toBe('signer key hash');
  });
  it('reads the header fields, the SEAMSVN as major/minor and the CPUID table', () => {
    const r = inspectBytes('x', imageBytes(REF), V2, 'test');
    expect(r.header).toMatchObject({ version: '0x100', offset_of_module: '8192', seamsvn: '1/7 (major/minor)', cpuid_table: '0x806f8 0xc06f0 0xa06f0' });
    expect(r.header.module).toMatch(/ELF64 type 3 machine 62 e_entry 0x/);
  });
});

describe('main (in process)', () => {
  const run = (...argv: string[]) => {
    const out: string[] = [],
      err: string[] = [];
    const code = main(
      argv,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join('\n'), err };
  };
  it('exits 0 when both accept, 1 when one rejects', () => {
    const good = file('good.blob', imageBytes(REF));
    expect(run(good, '--trust', 'test').code).toBe(0);
    const r = run(good, '--trust', 'intel');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/P-SEAMLDR \(trusting the intel key\): rejects \(EBADSIG\)/);
    expect(r.out).toMatch(/FAIL {2}signer key hash/);
    expect(run(file('v2.img', imageBytes({ ...REF, format: 'v2' })), '--kernel', 'v2', '--trust', 'test').code).toBe(1);
  });
  it('prints the --json shape', () => {
    const j = JSON.parse(run(file('j.blob', imageBytes(REF)), '--trust', 'test', '--json').out);
    expect(Object.keys(j)).toEqual(['file', 'format', 'release', 'kernel', 'pseamldr']);
    expect(Object.keys(j.kernel)).toEqual(['accepted', 'errno', 'checks']);
    expect(Object.keys(j.pseamldr)).toEqual(['accepted', 'status', 'checks']);
    expect(j.kernel.checks[0]).toEqual({ name: 'at least a 4 KiB header', ok: true, value: expect.any(String) });
  });
  it.each([
    ['a missing file', [join(dir, 'nope.blob')], /^inspect: .*nope\.blob: no such file$/],
    ['a directory', [dir], /^inspect: .*: is a directory, not a TDX module image$/],
    ['a bad --kernel', [join(dir, 'x'), '--kernel', 'seed'], /^inspect: --kernel must be v2 or upstream, not "seed" \(npm run inspect -- --help\)$/],
    ['--kernel constructor', [join(dir, 'x'), '--kernel', 'constructor'], /^inspect: --kernel must be v2 or upstream, not "constructor"/],
    ['--kernel __proto__', [join(dir, 'x'), '--kernel', '__proto__'], /^inspect: --kernel must be v2 or upstream, not "__proto__"/],
    ['--kernel toString', [join(dir, 'x'), '--kernel', 'toString'], /^inspect: --kernel must be v2 or upstream, not "toString"/],
    ['a --kernel with a newline', [join(dir, 'x'), '--kernel', 'v2\nx'], /^inspect: --kernel must be v2 or upstream, not "v2\\nx"/],
    ['a bad --trust', [join(dir, 'x'), '--trust', 'me'], /^inspect: --trust must be intel or test, not "me" \(npm run inspect -- --help\)$/],
    ['no file', [], /^inspect: needs the FILE to inspect \(npm run inspect -- --help\)$/],
    ['two files', [join(dir, 'x'), join(dir, 'y')], /^inspect: one FILE at a time/],
    ['a missing file with a newline in its name', [join(dir, 'no\nsuch.blob')], /^inspect: .*no such\.blob: no such file$/],
  ])('exits 2 on %s with one line', (_name, argv, message) => {
    const r = run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });
  it.each(['--help', '-h'])('%s prints the usage and exits 0', (flag) => {
    const r = run(flag, '--kernel', 'constructor');
    expect(r).toEqual({ code: 0, out: expect.stringMatching(/^usage: npm run inspect -- FILE/), err: [] });
  });
  it('a readable file that is no image is rejected (exit 1), not an error', () => {
    expect(run(file('text.txt', 'hello')).code).toBe(1);
  });
});

describe('npm run inspect (child process)', () => {
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
  it('exits 0 with the report on stdout', () => {
    const out = execFileSync(tsx, ['harness/inspect.ts', file('c.blob', imageBytes(REF)), '--trust', 'test'], { encoding: 'utf8' });
    expect(out).toMatch(/^.*c\.blob: TDX module image, v1 container$/m);
    expect(out).toMatch(/kernel \(v2\): accepts/);
  });
  it('exits 2 with one stderr line and no stack trace for a missing file', () => {
    const r = spawnSync(tsx, ['harness/inspect.ts', join(dir, 'missing.blob')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat /);
  });
});

describe('inspectFile', () => {
  it('refuses a file larger than any TDX image before reading it', () => {
    const big = file('big.bin', new Uint8Array(3 << 20));
    expect(() => inspectFile(big)).toThrow(/larger than any TDX module image/);
  });
});
