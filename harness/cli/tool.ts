// The entry of the project's other tools (bench, canonical): their exit code; for bad usage or a
// report they could not write, one printable line on stderr and exit 2, never a stack trace;
// `--help` prints the usage and exits 0. Anything else is a real failure and keeps its stack.
import { errorLine } from '../schema.ts';
import { HelpRequest, UsageError } from './args.ts';
import { writeFailure } from './record.ts';

/** Runs `main`; a negative code leaves the exit code as it is (canonical's worker, which its parent reads). */
export async function runTool(tool: string, usage: string, main: () => Promise<number>): Promise<void> {
  try {
    const code = await main();
    if (code >= 0) process.exitCode = code;
  } catch (e) {
    if (e instanceof HelpRequest) return void console.log(usage);
    const line = e instanceof UsageError ? `${e.message} (npm run ${tool} -- --help)` : writeFailure(e);
    if (line === null) throw e;
    console.error(errorLine(`${tool}: ${line}`));
    process.exitCode = 2;
  }
}
