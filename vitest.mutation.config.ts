// The test selection of `npm run mutation` (stryker.config.json): the fast, deterministic suites
// that reach impl/, plus one fixed-seed run of the property catalog (test/mutation). Left out:
// test/harness (spawns the CLI, renders HTML, runs the seeded-bug searches with shrinking: a
// minute and more per run, and it tests the harness, which is not mutated), test/corpus (replays
// stored counterexamples through the CLI's corpus reader), and test/model (it imports nothing
// from impl/, so it cannot cover a mutant of impl/).
import { defineConfig } from 'vitest/config';
import MutationSequencer from './test/mutation/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/impl/**/*.test.ts', 'test/scenarios/**/*.test.ts', 'test/properties/**/*.test.ts', 'test/mutation/**/*.mutation.ts'],
    // A guard against a mutant that makes the emulator loop forever; Stryker's own timeout
    // (timeoutMS + timeoutFactor x the test's dry-run time) normally ends such a run first.
    testTimeout: 60_000,
    // Unit suites first, the property run last (test/mutation/sequencer.ts).
    sequence: { sequencer: MutationSequencer },
  },
});
