// Reading the policy's facts (module type, CPUID table) from a blob's sigstruct; with
// TDX_MODULE_BINARIES set, from the eleven published blobs, which must agree with the facts
// properties/releases.ts was given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOB_SIGSTRUCT_OFFSET, MAX_CPUID_TABLE, sigstructFacts } from '../../../impl/userspace/sigstruct_facts.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS } from '../../../properties/releases.ts';

/** A blob-shaped buffer: header page, then a sigstruct with the given type and CPUID table. */
function blob(o: { moduleType?: number; cpuids?: number[]; tableSize?: number; headerType?: number; vendor?: number } = {}): Uint8Array {
  const b = new Uint8Array(BLOB_SIGSTRUCT_OFFSET + 4096);
  const dv = new DataView(b.buffer, BLOB_SIGSTRUCT_OFFSET);
  const cpuids = o.cpuids ?? [0x806f8, 0xc06f0];
  dv.setUint32(0, o.headerType ?? 6, true);
  dv.setUint32(12, o.moduleType ?? 0, true);
  dv.setUint32(16, o.vendor ?? 0x8086, true);
  dv.setUint32(1024, o.tableSize ?? cpuids.length, true);
  cpuids.forEach((c, i) => dv.setUint32(1028 + 4 * i, c, true));
  return b;
}

describe('sigstructFacts', () => {
  it('reads the CPUID table and module_type bit 31', () => {
    expect(sigstructFacts('1.5.06', blob())).toEqual({ version: '1.5.06', cpuids: [0x806f8, 0xc06f0], debug: false });
    expect(sigstructFacts('1.5.06', blob({ moduleType: 0x8000_0000, cpuids: [0xa06d0] }))).toEqual({ version: '1.5.06', cpuids: [0xa06d0], debug: true });
    expect(sigstructFacts('1.5.06', blob({ cpuids: [] }))).toMatchObject({ cpuids: [] });
  });

  it('says why bytes are not a module blob', () => {
    expect(sigstructFacts('1.5.06', new Uint8Array(6143))).toMatch(/too short/);
    expect(sigstructFacts('1.5.06', blob({ headerType: 7 }))).toMatch(/no SEAM sigstruct/);
    expect(sigstructFacts('1.5.06', blob({ vendor: 0x1022 }))).toMatch(/no SEAM sigstruct/);
    expect(sigstructFacts('1.5.06', blob({ tableSize: MAX_CPUID_TABLE + 1 }))).toMatch(/overruns the sigstruct/);
    expect(sigstructFacts('1.5.06', blob({ tableSize: MAX_CPUID_TABLE }))).toMatchObject({ version: '1.5.06' });
  });
});

const BINARIES = process.env['TDX_MODULE_BINARIES'];

describe('the published blobs', () => {
  it.skipIf(!BINARIES)(
    `agree with properties/releases.ts${BINARIES ? '' : ' (skipped: set TDX_MODULE_BINARIES to a checkout of intel/tdx-module-binaries)'}`,
    () => {
      for (const r of MAPPING_FILE_RELEASES) {
        const family = r.version.slice(0, 3);
        const bytes = new Uint8Array(readFileSync(join(BINARIES!, 'joined_files', family, `tdx_module_${r.version}.blob`)));
        expect(sigstructFacts(r.version, bytes)).toEqual(RELEASE_FACTS.find((f) => f.version === r.version));
      }
    },
  );
});
