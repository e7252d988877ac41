// `npm run mutation`: mutation testing of the emulated platform (impl/kernel, impl/firmware,
// impl/kvm, impl/platform) with Stryker 9.6 (the last line that runs on Node 20).
// Tests: vitest.mutation.config.ts, i.e. the unit, scenario and property-layer suites plus the
// property catalog at the quick budget with seed 42 on the seed kernel (test/mutation/).
// Nothing in that selection draws a random seed, so two runs give the same report.
// Reports: reports/mutation/{index.html,mutation.json}, and `scores.md` per file and folder
// (written by test/mutation/scores.ts after the run). `npm run mutation:properties` is the
// properties-only variant (stryker.properties-only.config.mjs).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  // related: false: the suites reach impl/ through properties/ and harness/, and vitest's
  // import graph is not needed to pick tests; perTest coverage does that, per mutant.
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  // Stryker rewrites `extends`/`references` of the tsconfig it copies into its sandbox through
  // TypeScript's JS API (ts.parseConfigFileTextToJson), which TypeScript 7 (the Go port, this
  // project's compiler) no longer has: the run dies before the dry run. Our tsconfig.json has no
  // extends, references or paths outside the project, so there is nothing to rewrite; pointing
  // this option at a file that does not exist skips the rewrite. Vitest does not type-check.
  tsconfigFile: 'tsconfig.stryker-skip-rewrite.json',
  mutate: [
    'impl/kernel/**/*.ts',
    'impl/firmware/**/*.ts',
    'impl/kvm/**/*.ts',
    'impl/platform/**/*.ts',
    // The RSA test keys are PEM text, not behaviour: a mutated key breaks every signature at
    // module load (a static mutant that reruns every test) and says nothing about the tests.
    '!impl/firmware/test_key.ts',
  ],
  // Static mutants (module-level constants: the revision records, ABI tables, errno names, state
  // name arrays) run only while a module loads, so Stryker would have to reload vitest and run
  // every test, properties included, for each: about 2-4 minutes apiece on 2 cores, hours in
  // all. They are reported as Ignored and left out of the score. Code that reads them (e.g.
  // `h.rev.cpuOnlinePrecheck && ...`) is mutated where it reads them.
  ignoreStatic: true,
  ignorePatterns: ['reports', 'bench', '.github'],
  concurrency: 2,
  // A mutant that turns a loop of the emulator endless is reported Timeout (counts as detected);
  // most are caught by Stryker's hit limit long before this. Stryker's defaults: the dry run's
  // per-test times include coverage counting, so they already over-estimate a mutant run.
  timeoutMS: 5_000,
  timeoutFactor: 1.5,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  // The gate is per folder (80% on impl/kernel and impl/firmware), in test/mutation/scores.ts,
  // which runs after a successful Stryker run; a break here would skip writing scores.md.
  thresholds: { high: 90, low: 80, break: null },
};
