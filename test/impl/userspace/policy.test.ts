// The selection rules of spec §3.5 on the real mapping_file.json entries and the sigstruct facts
// of the published blobs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTdxVersion, parseTdxVersion, selectModule, type Candidate, type PlatformFacts } from '../../../impl/userspace/policy.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS } from '../../../properties/releases.ts';

const SPR = 0x806f8,
  GNR = 0xa06d1;

function select(current: string, seamldr: string, cpu: number, over: Partial<PlatformFacts> = {}, facts = RELEASE_FACTS) {
  return selectModule({ current, seamldr, cpu, allowDebug: false, ...over }, MAPPING_FILE_RELEASES, facts);
}

function candidate(s: { candidates: readonly Candidate[] }, version: string): Candidate {
  const c = s.candidates.find((x) => x.version === version);
  if (!c) throw new Error(`no candidate ${version}`);
  return c;
}

const loadable = (s: { candidates: readonly Candidate[] }) => s.candidates.filter((c) => c.loadable).map((c) => c.version);

describe('versions', () => {
  it('parses major.minor.update within the fields (u8, u8, u16) and prints TDX_VERSION_FMT', () => {
    expect(parseTdxVersion('1.5.06')).toEqual({ major: 1, minor: 5, update: 6 });
    expect(formatTdxVersion({ major: 2, minor: 0, update: 4 })).toBe('2.0.04');
    for (const bad of ['1.5', '1.5.6.1', 'x.5.06', '256.0.00', '1.5.65536', ' 1.5.06', '1.5.-1', '']) expect(parseTdxVersion(bad)).toBeNull();
  });
});

describe('rule 1: the P-SEAMLDR', () => {
  it('1.5.01 needs P-SEAMLDR 1.5.x; the later 1.5 releases also load on 2.0.x', () => {
    const on20 = select('1.5.01', '2.0.00', SPR);
    expect(candidate(on20, '1.5.01')).toMatchObject({ seamldrOk: false, loadable: false });
    expect(candidate(on20, '1.5.01').reasons).toContain('P-SEAMLDR 2.0.00 cannot load it: it needs P-SEAMLDR 1.5.00 or a later 1.5.x');
    expect(candidate(on20, '1.5.05').seamldrOk).toBe(true);
    expect(candidate(select('1.5.01', '1.5.00', SPR), '1.5.01').seamldrOk).toBe(true);
    expect(candidate(select('1.5.01', '1.5.02', SPR), '1.5.01').seamldrOk).toBe(true);
  });

  it('a 2.0 release needs a 2.0 P-SEAMLDR, whatever its update', () => {
    const s = select('2.0.04', '1.5.02', GNR);
    expect(s.candidates.filter((c) => c.version.startsWith('2.0')).every((c) => !c.seamldrOk)).toBe(true);
    expect(s.choice).toBeNull();
    expect(candidate(select('2.0.04', '2.0.03', GNR), '2.0.08').seamldrOk).toBe(true);
  });
});

describe('rule 2: the CPU', () => {
  it('ignores the stepping', () => {
    const verdicts = (cpu: number) => select('1.5.06', '1.5.00', cpu).candidates.map(({ reasons: _, ...v }) => v);
    expect(verdicts(0x806f0)).toEqual(verdicts(0x806f8));
    expect(verdicts(0x806ff)).toEqual(verdicts(0x806f8));
    expect(select('1.5.06', '1.5.00', 0x806ff).choice).toBe('1.5.16');
    expect(candidate(select('2.0.04', '2.0.00', 0xa06e5), '2.0.04').cpuOk).toBe(true);
  });

  it('refuses a family and model not in the table: 2.0.02 was not built for 0xa06e0', () => {
    const s = select('2.0.02', '2.0.00', 0xa06e0);
    expect(candidate(s, '2.0.02')).toMatchObject({ cpuOk: false, loadable: false });
    expect(candidate(s, '2.0.02').reasons[0]).toBe('not built for this CPU: family/model 0xa06e0 (stepping ignored) is not in its CPUID table (0xa06d0)');
    expect(candidate(s, '2.0.04').cpuOk).toBe(true);
  });

  it('1.5.01 does not run on 0xa06f0, the later 1.5 releases do', () => {
    const s = select('1.5.01', '1.5.00', 0xa06f3);
    expect(candidate(s, '1.5.01').cpuOk).toBe(false);
    expect(candidate(s, '1.5.05').cpuOk).toBe(true);
  });

  it('a CPU in no table gets no module', () => {
    const s = select('1.5.06', '1.5.00', 0x906a3);
    expect(s.candidates.every((c) => !c.cpuOk)).toBe(true);
    expect(s.choice).toBeNull();
  });

  it('a release without sigstruct facts is not loadable', () => {
    const s = select(
      '1.5.06',
      '1.5.00',
      SPR,
      {},
      RELEASE_FACTS.filter((f) => f.version !== '1.5.16'),
    );
    expect(candidate(s, '1.5.16')).toMatchObject({ cpuOk: false, loadable: false });
    expect(s.choice).toBe('1.5.13');
  });
});

describe('rule 3: debug modules', () => {
  const debugFacts = RELEASE_FACTS.map((f) => (f.version === '1.5.16' ? { ...f, debug: true } : f));

  it('only when the operator allows them', () => {
    const no = select('1.5.06', '1.5.00', SPR, {}, debugFacts),
      yes = select('1.5.06', '1.5.00', SPR, { allowDebug: true }, debugFacts);
    expect(candidate(no, '1.5.16')).toMatchObject({ debug: true, loadable: false, reasons: ['a debug module: allowed only with --allow-debug'] });
    expect(no.choice).toBe('1.5.13');
    expect(candidate(yes, '1.5.16')).toMatchObject({ debug: true, loadable: true, reasons: [] });
    expect(yes.choice).toBe('1.5.16');
  });
});

describe('rule 4: TD-preserving capability, relative to the running version', () => {
  it('2.0.02 -> 2.0.04, 2.0.05, 2.0.08 are incapable: they need a running 2.0.04 or newer', () => {
    const s = select('2.0.02', '2.0.00', GNR);
    for (const v of ['2.0.04', '2.0.05', '2.0.08']) {
      expect(candidate(s, v)).toMatchObject({ seamldrOk: true, cpuOk: true, tdPreserving: false, loadable: false });
      expect(candidate(s, v).reasons).toEqual(['not TD-preserving: this release needs a running 2.0.04 or newer']);
    }
    expect(s.choice).toBe('2.0.02');
  });

  it('re-installing the running version is allowed', () => {
    const s = select('1.5.16', '1.5.00', SPR);
    expect(candidate(s, '1.5.16')).toMatchObject({ tdPreserving: true, loadable: true });
    expect(s.choice).toBe('1.5.16');
  });

  it('a downgrade is refused (2.0.05 -> 2.0.04 although their SEAMSVN is equal)', () => {
    const s = select('2.0.05', '2.0.00', GNR);
    expect(candidate(s, '2.0.04')).toMatchObject({ tdPreserving: false, reasons: ['not TD-preserving: older than the running 2.0.05 (a downgrade)'] });
    expect(loadable(s)).toEqual(['2.0.05', '2.0.08']);
  });

  it('z-stream only: no release of another major.minor', () => {
    const s = select('1.5.06', '2.0.00', SPR);
    expect(candidate(s, '2.0.08').tdPreserving).toBe(false);
    expect(candidate(s, '2.0.08').reasons).toContain('not TD-preserving: only a 1.5.x release can replace the running 1.5.06 (z-stream updates only)');
  });

  it('judges a running version that is not in the mapping by its update', () => {
    expect(loadable(select('1.5.03', '1.5.00', SPR))).toEqual(['1.5.05', '1.5.06', '1.5.08', '1.5.09', '1.5.13', '1.5.16']);
    expect(loadable(select('2.0.03', '2.0.00', GNR))).toEqual([]);
  });
});

describe('the default choice', () => {
  it('is the loadable release with the highest update', () => {
    const s = select('1.5.06', '1.5.00', SPR);
    expect(loadable(s)).toEqual(['1.5.06', '1.5.08', '1.5.09', '1.5.13', '1.5.16']);
    expect(s.choice).toBe('1.5.16');
    expect(select('2.0.04', '2.0.00', GNR).choice).toBe('2.0.08');
  });

  it('lists every release of the mapping, in its order, each with its verdicts', () => {
    const s = select('1.5.06', '1.5.00', SPR);
    expect(s.candidates.map((c) => c.version)).toEqual(MAPPING_FILE_RELEASES.map((r) => r.version));
    expect(candidate(s, '1.5.05').reasons).toEqual(['not TD-preserving: older than the running 1.5.06 (a downgrade)']);
    expect(candidate(s, '2.0.02').reasons).toHaveLength(3);
  });
});

describe('the policy over generated platforms', () => {
  const versions = ['1.5.00', '1.5.01', '1.5.03', '1.5.06', '1.5.16', '1.5.24', '2.0.00', '2.0.02', '2.0.03', '2.0.04', '2.0.05', '2.0.08', '3.1.00'];
  const platform = fc.record({
    current: fc.constantFrom(...versions),
    seamldr: fc.constantFrom('1.5.00', '1.5.02', '2.0.00', '2.0.03', '3.0.00'),
    cpu: fc.oneof(fc.constantFrom(0x806f8, 0xc06f0, 0xa06f0, 0xa06d0, 0xa06e0, 0x906a3), fc.nat({ max: 0xffffffff })),
    allowDebug: fc.boolean(),
  });
  /** Fixed, so a run is reproducible (the seed is printed with any failure). */
  const RUN = { seed: 20261130, numRuns: 500 };
  const facts = fc
    .array(fc.boolean(), { minLength: RELEASE_FACTS.length, maxLength: RELEASE_FACTS.length })
    .map((debug) => RELEASE_FACTS.map((f, i) => ({ ...f, debug: debug[i]! })));

  it('the choice is loadable, of the running family, and has the highest update of the loadable', () => {
    fc.assert(
      fc.property(platform, facts, (p, f) => {
        const s = selectModule(p, MAPPING_FILE_RELEASES, f);
        const ok = s.candidates.filter((c) => c.loadable);
        expect(s.choice === null).toBe(ok.length === 0);
        if (s.choice === null) return;
        expect(s.choice.slice(0, 4)).toBe(p.current.slice(0, 4));
        expect(parseTdxVersion(s.choice)!.update).toBe(Math.max(...ok.map((c) => parseTdxVersion(c.version)!.update)));
        expect(parseTdxVersion(s.choice)!.update).toBeGreaterThanOrEqual(parseTdxVersion(p.current)!.update);
      }),
      RUN,
    );
  });

  it('a candidate is loadable exactly when every rule allows it, and says why not otherwise', () => {
    fc.assert(
      fc.property(platform, facts, (p, f) => {
        for (const c of selectModule(p, MAPPING_FILE_RELEASES, f).candidates) {
          expect(c.loadable).toBe(c.seamldrOk && c.cpuOk && c.tdPreserving && (!c.debug || p.allowDebug));
          expect(c.reasons.length === 0).toBe(c.loadable);
        }
      }),
      RUN,
    );
  });

  it('the stepping never matters, and allowing debug modules never removes a candidate', () => {
    fc.assert(
      fc.property(platform, facts, fc.integer({ min: 0, max: 15 }), (p, f, stepping) => {
        const loadableOf = (q: PlatformFacts) =>
          selectModule(q, MAPPING_FILE_RELEASES, f)
            .candidates.filter((c) => c.loadable)
            .map((c) => c.version);
        expect(loadableOf({ ...p, cpu: ((p.cpu & ~0xf) | stepping) >>> 0 })).toEqual(loadableOf(p));
        expect(loadableOf({ ...p, allowDebug: true })).toEqual(expect.arrayContaining(loadableOf(p)));
      }),
      RUN,
    );
  });
});
