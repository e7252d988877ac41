// Tests for impl/firmware/sigstruct.ts against Intel's eleven real sigstructs: each record of
// data/real-sigstructs.json, rebuilt as bytes, reads back field for field, and passes every
// check of verify_manifest that does not need Intel's private key.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../impl/firmware/abi.ts';
import { buildSigstruct, manifestChecks, parseSigstruct, SIGSTRUCT, TEST_KEY_HASH, type SigstructFields } from '../../../impl/firmware/sigstruct.ts';

interface Rec {
  [k: string]: unknown;
  release: string;
  bytes1000to1023: string;
  cpuidTable: string[];
  seamhash: string;
}
const DATA = JSON.parse(readFileSync(new URL('../../../data/real-sigstructs.json', import.meta.url), 'utf8')) as { releases: Rec[] };
const n = (r: Rec, k: string) => Number(r[k]);

function fieldsOf(r: Rec): SigstructFields {
  const raw = Buffer.from(r.bytes1000to1023, 'hex');
  return {
    date: n(r, 'date'),
    debug: (n(r, 'moduleType') & 0x80000000) !== 0,
    seamhash: Buffer.from(r.seamhash, 'hex'),
    seamsvn: n(r, 'seamsvn'),
    attributes: BigInt(n(r, 'attributes')),
    ripOffset: n(r, 'ripOffset'),
    numStackPages: n(r, 'numStackPages'),
    numTlsPages: n(r, 'numTlsPages'),
    numKeyholePages: n(r, 'numKeyholePages'),
    numGlobalDataPages: n(r, 'numGlobalDataPages'),
    maxTdmrs: n(r, 'maxTdmrs'),
    maxRsvdPerTdmr: n(r, 'maxRsvdPerTdmr'),
    pamtEntrySize4k: n(r, 'pamtEntrySize4k'),
    pamtEntrySize2m: n(r, 'pamtEntrySize2m'),
    pamtEntrySize1g: n(r, 'pamtEntrySize1g'),
    moduleHv: n(r, 'moduleHv'),
    minUpdateHv: n(r, 'minUpdateHv'),
    noDowngrade: n(r, 'noDowngrade') !== 0,
    numHandoffPages: n(r, 'numHandoffPages'),
    gdtIdtOffset: n(r, 'gdtIdtOffset'),
    faultWrapperOffset: n(r, 'faultWrapperOffset'),
    moduleVersion: { update: raw.readUInt16LE(0), minor: raw[2]!, major: raw[3]!, build: raw.readUInt16LE(4), extra: raw.readUInt16LE(6) },
    cpuidTable: r.cpuidTable.map(Number),
  };
}

describe.each(DATA.releases.map((r) => [r.release, r] as const))('the real sigstruct of %s', (_v, r) => {
  const bytes = buildSigstruct(fieldsOf(r));
  const s = parseSigstruct(bytes);
  it('reads back every field at its real offset', () => {
    const { seamhash, ...rest } = fieldsOf(r);
    expect(s).toMatchObject(rest);
    expect(Buffer.from(s.seamhash).toString('hex')).toBe(r.seamhash);
    expect(Buffer.from(bytes.subarray(1000, 1024)).toString('hex')).toBe(r.bytes1000to1023);
    expect(s.ripOffset).toBe(n(r, 'elfEntry'));
    expect(s.firstReservedNonZero).toBe(-1);
  });
  it('passes every verify_manifest check on a platform trusting the key that signed it', () => {
    const failed = manifestChecks(s, bytes, {
      layout: r.release.startsWith('1.5') ? '1.5' : '2.0',
      trustedKeyHash: TEST_KEY_HASH,
      debugUnlocked: false,
      runningSeamsvn: s.seamsvn,
      cpuFms: [s.cpuidTable[0]! | 1],
      moduleBytes: n(r, 'modulePages') * PAGE_SIZE,
    }).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });
});

describe('the 1.5 layout', () => {
  it('keeps 1000..1023 zero in every 1.5 sigstruct, and 1008..1023 (reserved3) zero in all eleven', () => {
    for (const r of DATA.releases) {
      const raw = Buffer.from(r.bytes1000to1023, 'hex');
      expect(
        raw.subarray(SIGSTRUCT.RESERVED3 - 1000).every((b) => b === 0),
        r.release,
      ).toBe(true);
      if (r.release.startsWith('1.5'))
        expect(
          raw.every((b) => b === 0),
          r.release,
        ).toBe(true);
    }
  });
});

describe('the two loader layouts', () => {
  it("a 1.5 P-SEAMLDR finds the 2.0 sigstructs' version fields in its reserved3, a 2.0 one accepts all eleven", () => {
    for (const r of DATA.releases) {
      const bytes = buildSigstruct(fieldsOf(r));
      const reserved = (layout: '1.5' | '2.0') =>
        manifestChecks(parseSigstruct(bytes), bytes, {
          layout,
          trustedKeyHash: TEST_KEY_HASH,
          debugUnlocked: false,
          runningSeamsvn: null,
          cpuFms: null,
          moduleBytes: n(r, 'modulePages') * PAGE_SIZE,
        })[0]!;
      expect(reserved('2.0').ok, r.release).toBe(true);
      expect(reserved('1.5'), r.release).toMatchObject({ name: 'reserved fields zero', ok: r.release.startsWith('1.5') });
    }
  });
});
