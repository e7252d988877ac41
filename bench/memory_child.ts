// Child process of the memory section: runs one hand-built scenario (argv: CPUs, TDs, commands,
// updates) through the full check and prints what it did as one JSON line.
import { NO_BUGS } from '../impl/faults.ts';
import { V2 } from '../properties/revisions/index.ts';
import { runScenario } from '../harness/run.ts';
import { mixedScenario } from './scenarios.ts';

const [cpus, tds, length, updates] = process.argv.slice(2).map(Number) as [number, number, number, number];
const s = mixedScenario(cpus, tds, length, updates);
const t0 = performance.now();
const r = runScenario(s, { revision: V2, bugs: NO_BUGS });
console.log(
  JSON.stringify({
    commands: s.commands.length,
    issued: r.commandsIssued,
    steps: r.steps,
    ms: performance.now() - t0,
    violation: r.violation ? `${r.violation.id}: ${r.violation.message}` : null,
    traceEvents: r.host.trace.length,
  }),
);
