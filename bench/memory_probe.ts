// Preloaded (--import) into a child process the bench measures: at exit it writes one line
// with the process's peak RSS and its final heap, so the parent needs no hook in the code run.
import { readFileSync, writeSync } from 'node:fs';
import { PROBE_MARK } from './probe_mark.ts';

// The peak RSS of this process's own memory (VmHWM). getrusage's maxRSS is not: on Linux it
// keeps the parent's RSS at the fork across exec (signal->maxrss), and the bench's parent holds
// its throughput section's images by then. maxRSS only where /proc is not there.
function peakRssKiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  const m = process.memoryUsage();
  const line = { maxRssKiB: peakRssKiB(), heapUsed: m.heapUsed, heapTotal: m.heapTotal };
  writeSync(2, `\n${PROBE_MARK}${JSON.stringify(line)}\n`);
});
