// The prefix of the line memory_probe.ts writes at a child's exit (shared with memory.ts).
export const PROBE_MARK = 'bench-memory-probe ';
