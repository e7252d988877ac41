// `npx tsx harness/cli.ts`: the CLI without harness/cli.mjs's early signal handlers (a signal
// in the first ~0.3 s, while tsx loads this, ends the process at once). `npm run verify` runs
// harness/cli.mjs. The options, exit codes and limits: README.md "Options and exit codes".
import { start } from './cli/main.ts';

await start(process.argv.slice(2));
