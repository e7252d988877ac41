// The HTML counterexample report, loaded in headless Chromium: it renders offline (no external
// resource), its inline script runs, and the timeline has one lane per CPU and the steps.
// Skipped, with a message, only where no Chromium is installed (.ci/run installs it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { V2 } from '../../properties/revisions/index.ts';
import { makeEntry } from '../../harness/corpus.ts';
import { counterexampleHtml } from '../../harness/html.ts';
import { runScenario } from '../../harness/run.ts';
import { stateObserver } from '../../harness/state_view.ts';
import type { Scenario } from '../../properties/scenario.ts';

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const browser = BROWSERS.find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
if (!browser) console.warn(`html.test.ts: no ${BROWSERS.join('/')} on this machine: the headless rendering test is skipped (.ci/run installs chromium)`);

/** B21 on two CPUs: a sysfs reader on CPU 1 is inside P-SEAMLDR when the update's SEAMLDR.INFO runs on CPU 0. */
const scenario: Scenario = {
  host: { nrCpus: 2, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1, debugUnlocked: false },
  commands: [
    { kind: 'upload', image: { release: '1.5.01', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null }, fault: null },
    { kind: 'read_seamldr', attr: 'version', cpu: 1 },
  ],
  schedule: [0, 0, 0, 0, 0, 0, 1],
};

function report(): { file: string; html: string; violation: string; steps: number[] } {
  const { observe, states } = stateObserver(V2.checks);
  const run = runScenario(scenario, { revision: V2, bugs: new Set(['seamldr-info-unlocked']), record: true, observe });
  expect(run.violation).not.toBeNull();
  const entry = makeEntry('concurrency', V2, 'seamldr-info-unlocked', run.violation!, scenario);
  const html = counterexampleHtml({
    name: 'concurrency-test',
    entry,
    run,
    states,
    file: 'test/corpus/x.json',
    replay: 'npm run verify -- --replay test/corpus/x.json',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'html-')), 'concurrency-test.html');
  writeFileSync(file, html);
  return {
    file,
    html,
    violation: run.violation!.id,
    steps: run.records.filter((r) => r.events.some((e) => e.kind !== 'lin') && !r.command).map((r) => r.step),
  };
}

describe('HTML counterexample report', () => {
  it('is self-contained: no external resources', () => {
    const { html } = report();
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain('npm run verify -- --replay test/corpus/x.json');
  });

  it.skipIf(!browser)(
    `renders in headless Chromium with one lane per CPU and every step${browser ? '' : ' (skipped: no chromium on this machine; .ci/run installs it)'}`,
    () => {
      const { file, violation, steps } = report();
      const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
      const r = spawnSync(
        browser!,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          '--virtual-time-budget=2000',
          '--dump-dom',
          `file://${file}`,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const dom = r.stdout;
      expect(dom).toMatch(/<body[^>]*data-ready="1"/); // the inline script ran to its end
      expect(dom.match(/<th class="lane" data-cpu="\d+">/g)).toHaveLength(2);
      for (const s of steps) expect(dom).toContain(`id="step-${s}"`);
      expect(dom).toMatch(/<td class="lane" data-cpu="1"><div class="ev[^"]*">… in P-SEAMLDR/);
      expect(dom).toMatch(/<td class="lane" data-cpu="0"><div class="ev[^"]*">SEAMLDR\.INFO -&gt; VMFAILINVALID/);
      expect(dom).toMatch(/<tr class="step violation selected"/);
      expect(dom).toContain(`✗ ${violation}`);
      expect(dom).toMatch(/<div id="state-panel"><strong>state after step \d+<\/strong>/);
    },
    90_000,
  );
});
