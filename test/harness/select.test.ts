// `npm run select`: in-process (main) and as the child process npm runs, on the examples of
// issue 12, --json, --batch, another mapping file, a blob directory, and bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/select.ts';

const ROOT = join(import.meta.dirname, '../..');
const NO_STACK = /at .*\.(ts|js):\d+/;
const EXAMPLE = ['--current', '1.5.06', '--seamldr', '1.5.00', '--cpu', '0x806f8'];

function select(...argv: string[]) {
  let out = '',
    err = '';
  const code = main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'select-'));

/** Exit 2, nothing on stdout, and one short line of printable ASCII on stderr saying `message`. */
function expectRefused(r: { code: number; out: string; err: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^select: [\x20-\x7e]*\(npm run select -- --help\)\n$/);
  expect(r.err.length).toBeLessThan(1000);
  expect(r.err).toMatch(message);
}

const RELEASE = { version: '1.5.09', min_module_version_for_td_preserving: '1.5.08', min_seamldr_versions: ['1.5.00'], tdx_feature0: '0x1' };
const mappingOf = (releases: object[]) => JSON.stringify({ tdx_module_releases: releases });

function file(dir: string, name: string, text: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A blob directory laid out as intel/tdx-module-binaries, with synthetic sigstructs. */
function blobDir(blobs: Record<string, { debug?: boolean; cpuids: number[] } | Uint8Array>): string {
  const d = tmp();
  for (const [v, b] of Object.entries(blobs)) {
    mkdirSync(join(d, 'joined_files', v.slice(0, 3)), { recursive: true });
    file(join(d, 'joined_files', v.slice(0, 3)), `tdx_module_${v}.blob`, b instanceof Uint8Array ? b : sigstructBlob(b));
  }
  return d;
}

/** A blob directory whose one blob is a FIFO nobody writes: open(2) of it would wait forever. */
function fifoBlobDir(): string {
  const d = tmp();
  mkdirSync(join(d, 'joined_files', '1.5'), { recursive: true });
  execFileSync('mkfifo', [join(d, 'joined_files', '1.5', 'tdx_module_1.5.06.blob')]);
  return d;
}

function sigstructBlob(o: { debug?: boolean; cpuids: number[] }): Uint8Array {
  const b = new Uint8Array(16384);
  const dv = new DataView(b.buffer, 4096);
  dv.setUint32(0, 6, true);
  dv.setUint32(12, o.debug ? 0x8000_0000 : 0, true);
  dv.setUint32(16, 0x8086, true);
  dv.setUint32(1024, o.cpuids.length, true);
  o.cpuids.forEach((c, i) => dv.setUint32(1028 + 4 * i, c, true));
  return b;
}

describe('npm run select (in-process)', () => {
  it('lists every candidate with its verdicts and reasons, and the choice', () => {
    const r = select(...EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^running 1\.5\.06 on P-SEAMLDR 1\.5\.00, CPU 0x806f8/);
    expect(r.out).toMatch(/ 1\.5\.05 +ok +ok +no +no +no +not TD-preserving: older than the running 1\.5\.06 \(a downgrade\)\n/);
    expect(r.out).toMatch(/ 1\.5\.06 +ok +ok +no +yes +yes\n/);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('choice: 1.5.16');
  });

  it('says when nothing is loadable (2.0.02 on a CPU its table lacks): exit 0, choice none', () => {
    const r = select('--current', '2.0.02', '--seamldr', '2.0.00', '--cpu', '0xa06e0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('not TD-preserving: this release needs a running 2.0.04 or newer');
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('choice: none (no release is loadable: nothing would be written)');
  });

  it('--json prints { candidates: [{ version, seamldrOk, cpuOk, debug, tdPreserving, loadable, reasons }], choice }', () => {
    const j = JSON.parse(select(...EXAMPLE, '--json').out);
    expect(Object.keys(j)).toEqual(['candidates', 'choice']);
    expect(j.choice).toBe('1.5.16');
    expect(j.candidates).toHaveLength(11);
    expect(j.candidates[2]).toEqual({ version: '1.5.06', seamldrOk: true, cpuOk: true, debug: false, tdPreserving: true, loadable: true, reasons: [] });
  });

  it('--batch answers each line as --json answers the same case', () => {
    const cases = [
      { current: '1.5.06', seamldr: '1.5.00', cpu: '0x806f8', allowDebug: false },
      { current: '2.0.02', seamldr: '2.0.03', cpu: 0xa06d1 },
      { current: '1.5.01', seamldr: '2.0.00', cpu: '0xc06f2', allowDebug: true },
    ];
    const d = tmp();
    const r = select('--batch', file(d, 'cases.jsonl', cases.map((c) => JSON.stringify(c)).join('\n') + '\n\n'));
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    cases.forEach((c, i) => {
      const single = select(
        '--current',
        c.current,
        '--seamldr',
        c.seamldr,
        '--cpu',
        String(c.cpu),
        ...(c.allowDebug ? ['--allow-debug'] : []),
        '--json',
      ).out.trimEnd();
      expect(lines[i]).toBe(single);
    });
    expect(JSON.parse(lines[1]!).choice).toBe('2.0.02');
  });

  it('--mapping reads another mapping file', () => {
    const d = tmp();
    const mapping = {
      tdx_module_releases: [{ version: '1.5.09', min_module_version_for_td_preserving: '1.5.08', min_seamldr_versions: ['1.5.00'], tdx_feature0: '0x1' }],
    };
    const j = JSON.parse(select(...EXAMPLE, '--json', '--mapping', file(d, 'm.json', JSON.stringify(mapping))).out);
    expect(j.candidates.map((c: { version: string }) => c.version)).toEqual(['1.5.09']);
    expect(j.choice).toBeNull();
    expect(j.candidates[0].reasons).toEqual(['not TD-preserving: this release needs a running 1.5.08 or newer']);
  });

  it('--blobs reads the module type and CPUID table from each sigstruct', () => {
    const d = blobDir({ '1.5.08': { cpuids: [0x806f8] }, '1.5.16': { debug: true, cpuids: [0x806f0] } });
    const j = JSON.parse(select(...EXAMPLE, '--json', '--blobs', d).out);
    const by = (v: string) => j.candidates.find((c: { version: string }) => c.version === v);
    expect(by('1.5.16')).toMatchObject({ debug: true, loadable: false });
    expect(by('1.5.13').reasons).toContain('no sigstruct for this release, so its CPUID table is unknown');
    expect(j.choice).toBe('1.5.08');
    expect(JSON.parse(select(...EXAMPLE, '--json', '--allow-debug', '--blobs', d).out).choice).toBe('1.5.16');
  });
});

describe('npm run select: bad input is exit 2 with one line', () => {
  const d = tmp();
  const goodCase = JSON.stringify({ current: '1.5.06', seamldr: '1.5.00', cpu: '0x806f8' });
  it.each([
    [['--current', '1.5', '--seamldr', '1.5.00', '--cpu', '0x806f8'], /--current must be a version like 1\.5\.06, not "1\.5"/],
    [['--current', '1.5.06', '--seamldr', '1.5.00.1', '--cpu', '0x806f8'], /--seamldr must be a version/],
    [['--current', '1.5.06', '--seamldr', '1.5.00'], /--cpu must be a CPUID\(1\)\.EAX value like 0x806f8, not null/],
    [['--current', '1.5.06', '--seamldr', '1.5.00', '--cpu', 'sapphire'], /--cpu must be/],
    [['--current', '1.5.06', '--seamldr', '1.5.00', '--cpu', '0x100000000'], /--cpu must be/],
    [[...EXAMPLE, '--nope'], /unknown option '--nope'/],
    [[...EXAMPLE, 'stray'], /stray/],
    [[...EXAMPLE, '--mapping', join(d, 'missing.json')], /--mapping .*missing\.json: no such file/],
    [[...EXAMPLE, '--mapping', d], /--mapping .*: is a directory, not a mapping file/],
    [[...EXAMPLE, '--mapping', file(d, 'notjson.json', '{"tdx_module_releases": [')], /--mapping .*notjson\.json: not JSON/],
    [[...EXAMPLE, '--mapping', file(d, 'empty.json', '{}')], /no tdx_module_releases list/],
    [
      [
        ...EXAMPLE,
        '--mapping',
        file(
          d,
          'badver.json',
          JSON.stringify({
            tdx_module_releases: [{ version: '1.5', min_module_version_for_td_preserving: '1.5.01', min_seamldr_versions: ['1.5.00'], tdx_feature0: '0x1' }],
          }),
        ),
      ],
      /tdx_module_releases\[0\]\.version is not a version/,
    ],
    [
      [
        ...EXAMPLE,
        '--mapping',
        file(
          d,
          'badldr.json',
          JSON.stringify({
            tdx_module_releases: [{ version: '1.5.06', min_module_version_for_td_preserving: '1.5.01', min_seamldr_versions: ['x'], tdx_feature0: '0x1' }],
          }),
        ),
      ],
      /min_seamldr_versions\[0\] is not a version/,
    ],
    [[...EXAMPLE, '--blobs', join(d, 'nowhere')], /--blobs .*: no joined_files directory/],
    [[...EXAMPLE, '--blobs', blobDir({ '1.5.06': new Uint8Array(100) })], /tdx_module_1\.5\.06\.blob: 100 bytes, too short/],
    [[...EXAMPLE, '--blobs', blobDir({ '1.5.06': new Uint8Array(8192) })], /no SEAM sigstruct/],
    [[...EXAMPLE, '--blobs', fifoBlobDir()], /tdx_module_1\.5\.06\.blob: not a regular file \(a FIFO, socket or device\)/],
    [['--batch', join(d, 'missing.jsonl')], /--batch .*: no such file/],
    [['--batch', file(d, 'b1.jsonl', `${goodCase}\n{"current": "1.5.06"`)], /--batch .*b1\.jsonl:2: not JSON/],
    [['--batch', file(d, 'b2.jsonl', `${goodCase}\n[1]`)], /b2\.jsonl:2: not a JSON object/],
    [
      ['--batch', file(d, 'b3.jsonl', JSON.stringify({ current: '1.5.06', seamldr: '1.5.00', cpu: 1, allow_debug: true }))],
      /b3\.jsonl:1: unknown field 'allow_debug'/,
    ],
    [['--batch', file(d, 'b4.jsonl', JSON.stringify({ current: '1.5.06', seamldr: '1.5.00', cpu: -1 }))], /b4\.jsonl:1: cpu must be/],
    [['--batch', file(d, 'b5.jsonl', JSON.stringify({ current: '1.5.06', seamldr: 150, cpu: 1 }))], /b5\.jsonl:1: seamldr must be a version/],
    [['--batch', file(d, 'b6.jsonl', JSON.stringify({ current: '1.5.06', seamldr: '1.5.00', cpu: 1, allowDebug: 'yes' }))], /allowDebug must be true or false/],
    [['--batch', file(d, 'b7.jsonl', goodCase), '--current', '1.5.06'], /--batch takes its cases from the file/],
    // the input's control characters reach the message escaped, never as they are
    [[...EXAMPLE, '--mapping', file(d, 'esc.json', '{"a":\n\u001b]0;pwn\u0007}')], /esc\.json: not JSON \(.*\\u001b.*\)/],
    [['--batch', file(d, 'b8.jsonl', '{"a\\nb\\u001b[31m":1}')], /b8\.jsonl:1: unknown field 'a\\u000ab\\u001b\[31m'/],
    // a mapping lists each release once, at most 256 of them, each needing at most 16 P-SEAMLDR versions
    [
      [...EXAMPLE, '--mapping', file(d, 'twice.json', mappingOf([RELEASE, { ...RELEASE, version: '1.5.10' }, RELEASE]))],
      /tdx_module_releases\[2\] lists 1\.5\.09 again \(first at \[0\]\)/,
    ],
    [
      [...EXAMPLE, '--mapping', file(d, 'many.json', mappingOf(Array.from({ length: 257 }, (_, i) => ({ ...RELEASE, version: `1.5.${i}` }))))],
      /257 releases, more than the 256 allowed/,
    ],
    [
      [...EXAMPLE, '--mapping', file(d, 'ldrs.json', mappingOf([{ ...RELEASE, min_seamldr_versions: Array(17).fill('1.5.00') }]))],
      /tdx_module_releases\[0\]\.min_seamldr_versions: 17 versions, more than the 16 allowed/,
    ],
  ])('%j', (argv, message) => {
    expectRefused(select(...argv), message);
  });

  it('quotes a prefix of a long value: a 100,000-character --current, option or file name', () => {
    expectRefused(
      select('--current', '1'.repeat(100_000), '--seamldr', '1.5.00', '--cpu', '1'),
      /--current must be a version like 1\.5\.06, not "1{37}"\.\.\. /,
    );
    expectRefused(select(...EXAMPLE, `--${'x'.repeat(100_000)}`), /unknown option '--x{100}/);
    expectRefused(select(...EXAMPLE, '--mapping', `${d}/${'\u001b'.repeat(100_000)}`), /--mapping .*(\\u001b){100}.*\.\.\.: cannot read \(ENAMETOOLONG\)/);
  });

  it('names a big value by its kind: a batch line whose current is a list of 3,000,000 items', () => {
    const line = JSON.stringify({ current: Array(3_000_000).fill(1), seamldr: '1.5.00', cpu: 1 });
    expectRefused(select('--batch', file(d, 'big.jsonl', line)), /big\.jsonl:1: current must be a version like 1\.5\.06, not a list /);
  });

  it('refuses a mapping of 200,000 releases with one line (the table would have a row for each)', () => {
    const m = JSON.parse(readFileSync(join(ROOT, 'data/mapping_file.json'), 'utf8'));
    m.tdx_module_releases = Array(200_000).fill(m.tdx_module_releases[0]);
    expectRefused(select(...EXAMPLE, '--mapping', file(d, 'm-many.json', JSON.stringify(m))), /200000 releases, more than the 256 allowed/);
  });
});

describe('npm run select: the largest mapping allowed', () => {
  it('judges 256 releases, one row each', () => {
    const m = file(tmp(), 'm.json', mappingOf(Array.from({ length: 256 }, (_, i) => ({ ...RELEASE, version: `1.5.${i}` }))));
    const r = select(...EXAMPLE, '--mapping', m);
    expect(r.code).toBe(0);
    expect(r.out.match(/^ {2}1\.5\.\d+ /gm)).toHaveLength(256);
    expect(r.out).toMatch(/^ {2}1\.5\.255 +ok +no /m);
  });
});

describe('npm run select (child process)', () => {
  const child = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'harness/select.ts', ...args], { encoding: 'utf8', cwd: ROOT });

  it('answers the example', () => {
    const r = child(...EXAMPLE);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(select(...EXAMPLE).out);
  });

  it('bad input: exit 2, one line on stderr, no stack trace', () => {
    const r = child('--current', '1.5.06', '--seamldr', '1.5.00', '--cpu', '0x806f8', '--mapping', '/nonexistent/mapping.json');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  it('--help prints the usage, exit 0', () => {
    const r = child('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run select --/);
  });
});

const BINARIES = process.env['TDX_MODULE_BINARIES'];

describe('npm run select --blobs on the published blobs', () => {
  it.skipIf(!BINARIES)(
    `agrees with the facts properties/releases.ts holds${BINARIES ? '' : ' (skipped: set TDX_MODULE_BINARIES to a checkout of intel/tdx-module-binaries)'}`,
    () => {
      for (const argv of [EXAMPLE, ['--current', '2.0.02', '--seamldr', '2.0.00', '--cpu', '0xa06e1']]) {
        expect(select(...argv, '--json', '--blobs', BINARIES!).out).toBe(select(...argv, '--json').out);
      }
    },
  );
});
