// Intel's published modules end to end (issue 11): with TDX_MODULE_BINARIES naming a checkout of
// intel/tdx-module-binaries, all eleven blobs decode, verify under Intel's key, install and run
// on an emulated v2 host, and each real-to-real update mapping_file.json marks TD-preserving-
// capable keeps every TD, while each one it marks incapable is refused by the new module's
// TDH.SYS.UPDATE. The blobs are read from that directory only, never copied.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectFile, main } from '../../harness/inspect.ts';
import { runScenario } from '../../harness/run.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import { loadBlobs, type LoadedBlobs, type MappingRelease } from '../../harness/blobs.ts';
import { TDH, TDX_SYS_INVALID_HANDOFF } from '../../impl/firmware/abi.ts';
import { seamcall } from '../../impl/firmware/seam.ts';
import { toHex } from '../../impl/firmware/sigstruct.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { bootHost, type Host } from '../../impl/host.ts';
import { fwLoad, fwUploadMain } from '../../impl/kernel/fw_upload.ts';
import { V2_KERNEL as V2 } from '../../properties/revisions/index.ts';
import { V2 as V2_RECORD } from '../../properties/revisions/index.ts';
import { runnableTasks, spawn, stepTask } from '../../impl/kernel/sched.ts';
import { kvmTdInitVm } from '../../impl/kvm/tdx.ts';
import { identityOf, REAL_SIGSTRUCTS, realHostConfig } from '../../properties/images.ts';
import { parseVersion } from '../../properties/releases.ts';

const DIR = process.env.TDX_MODULE_BINARIES;
const SKIPPED = 'test/real skipped: TDX_MODULE_BINARIES is not set (point it at a checkout of intel/tdx-module-binaries)';
if (!DIR) console.log(SKIPPED);

const cmp = (a: string, b: string) => {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  return x.major - y.major || x.minor - y.minor || x.update - y.update;
};
const line = (v: string) => v.slice(0, 3);

/** Runs every task to its end, round-robin (stop_machine needs every CPU to step). */
function settle(h: Host): void {
  for (let i = 0; i < 1_000_000; i++) {
    const tasks = h.sched.tasks.filter((t) => runnableTasks(h.sched).includes(t));
    if (tasks.length === 0) return;
    stepTask(h.sched, tasks[i % tasks.length]!);
  }
  throw new Error('the emulated host did not settle');
}

function realHost(version: string): Host {
  const base = {
    nrCpus: 2,
    cpuFms: 0,
    boot: identityOf({ release: version, real: true, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false }),
    seamldrVersion: parseVersion(`${line(version)}.00`),
    numRemainingUpdates: 1,
    debugUnlocked: false,
  };
  return bootHost(realHostConfig(base, version), V2, NO_BUGS);
}

function uploadBlob(h: Host, bytes: Uint8Array): void {
  expect(fwLoad(h, h.tdxHost.fw!, bytes)).toBe('started');
  spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, h.tdxHost.fw!));
  settle(h);
}

function tdxCapable(mapping: readonly MappingRelease[], from: string, to: string): boolean {
  const m = mapping.find((r) => r.version === to)!;
  return line(from) === line(to) && cmp(from, m.minModuleVersionForTdPreserving) >= 0;
}

describe.skipIf(!DIR)("Intel's module blobs (TDX_MODULE_BINARIES)", () => {
  const loaded: LoadedBlobs = DIR ? loadBlobs(DIR) : { dir: '', blobs: [], mapping: [] };
  const blob = (v: string) => loaded.blobs.find((b) => b.release === v)!;

  it('all eleven decode, with the SEAMHASHes of data/real-sigstructs.json', () => {
    expect(loaded.blobs.map((b) => b.release).sort(cmp)).toEqual(REAL_SIGSTRUCTS.releases.map((r) => r.release));
    for (const r of REAL_SIGSTRUCTS.releases) expect(blob(r.release).seamhash, r.release).toBe(r.seamhash);
  });

  it.each(REAL_SIGSTRUCTS.releases.map((r) => r.release))('%s boots, installs over itself and runs on a v2 host', (v) => {
    const h = realHost(v);
    expect(h.seam.module!.sysState).toBe('SYS_READY');
    expect(h.seam.module!.identity.version).toEqual(parseVersion(v));
    uploadBlob(h, blob(v).bytes);
    expect(h.tdxHost.fw!.errCode).toBe('none');
    expect(h.seam.seamdb).toHaveLength(2);
    expect(h.seam.seamdb[1]!.mrseam).toBe(blob(v).seamhash);
    expect(h.seam.module!.sysState).toBe('SYS_READY');
  });

  const pairs = REAL_SIGSTRUCTS.releases.flatMap((a) =>
    REAL_SIGSTRUCTS.releases.filter((b) => line(a.release) === line(b.release) && cmp(a.release, b.release) < 0).map((b) => [a.release, b.release] as const),
  );

  it.each(pairs)('%s -> %s keeps every TD exactly when mapping_file.json marks it TD-preserving-capable', (from, to) => {
    const h = realHost(from);
    for (let id = 1; id <= 2; id++) spawn(h.sched, `td${id}`, 0, kvmTdInitVm(h, 0, id));
    settle(h);
    const tdrs = [...h.seam.module!.tds.keys()];
    expect(tdrs).toHaveLength(2);
    uploadBlob(h, blob(to).bytes);
    const m = h.seam.module!;
    expect(toHex(Buffer.from(h.seam.seamdb.at(-1)!.mrseam, 'hex'))).toBe(blob(to).seamhash);
    if (tdxCapable(loaded.mapping, from, to)) {
      expect(h.tdxHost.fw!.errCode).toBe('none');
      expect(m.sysState).toBe('SYS_READY');
      expect(m.identity.version).toEqual(parseVersion(to));
      expect([...m.tds.keys()]).toEqual(tdrs);
      expect(seamcall(h.seam, 0, TDH.SYS_RD, { rdx: 0x0800000100000005n }).out).toBe(BigInt(parseVersion(to).update));
    } else {
      expect(h.tdxHost.fw!.errCode).not.toBe('none');
      expect(m.sysState).not.toBe('SYS_READY');
      expect(h.trace.some((e) => e.kind === 'seamcall' && e.leaf === TDH.SYS_UPDATE && e.status === TDX_SYS_INVALID_HANDOFF)).toBe(true);
    }
  });
});

if (!DIR) it.skip(SKIPPED, () => {});

describe.skipIf(!DIR)("npm run inspect on Intel's blobs", () => {
  const loaded: LoadedBlobs = DIR ? loadBlobs(DIR) : { dir: '', blobs: [], mapping: [] };
  it.each(loaded.blobs.map((b) => [b.release, b.file] as const))(
    '%s: accepted trusting Intel (exit 0), rejected trusting the test key at the key check (exit 1)',
    (v, file) => {
      const out: string[] = [];
      expect(
        main(
          [file, '--trust', 'intel', '--json'],
          (s) => out.push(s),
          () => {},
        ),
      ).toBe(0);
      expect(JSON.parse(out[0]!)).toMatchObject({ format: 'v1', release: v, kernel: { accepted: true }, pseamldr: { accepted: true, status: 'SUCCESS' } });
      const r = inspectFile(file, V2, 'test');
      expect(r.pseamldr.status).toBe('EBADSIG');
      expect(r.pseamldr.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['signer key hash']);
      expect(
        main(
          [file, '--trust', 'test'],
          () => {},
          () => {},
        ),
      ).toBe(1);
    },
  );
});

describe.skipIf(!DIR)('real blobs in generated scenarios', () => {
  // Until the CLI boots real releases (--blobs), real uploads land on test-key hosts: every one is
  // refused by the key check, corrupt or not, and model and emulation must agree on each.
  it('half the uploads of the update-contract property replaced by Intel blobs: no violation', () => {
    const loaded = loadBlobs(DIR!);
    const gen = PROPERTIES.find((p) => p.id === 'update-contract')!.gen;
    const arb = scenario(gen);
    const releases = loaded.blobs.map((b) => b.release);
    let realUploads = 0;
    for (const s of fc.sample(arb, { numRuns: 60, seed: 11 })) {
      const commands = s.commands.map((c, i) => {
        if (c.kind !== 'upload' || i % 2) return c;
        const line = releases.filter((v) => v.slice(0, 3) === c.image.release.slice(0, 3));
        realUploads++;
        return {
          ...c,
          image: { ...c.image, real: true, release: line[i % line.length]!, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false },
        };
      });
      const r = runScenario({ ...s, commands }, { revision: V2_RECORD, bugs: NO_BUGS });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
    }
    expect(realUploads).toBeGreaterThan(50);
  });
});
