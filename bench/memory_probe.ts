// Preloaded (--import) into a child process the bench measures: at exit it writes one line
// with the process's peak RSS and its final heap, so the parent needs no hook in the code run.
import { writeSync } from 'node:fs';
import { PROBE_MARK } from './probe_mark.ts';

process.on('exit', () => {
  const m = process.memoryUsage();
  const line = { maxRssKiB: process.resourceUsage().maxRSS, heapUsed: m.heapUsed, heapTotal: m.heapTotal };
  writeSync(2, `\n${PROBE_MARK}${JSON.stringify(line)}\n`);
});
