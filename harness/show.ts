// Results as a counterexample prints them: versions as sysfs shows them, update outcomes with
// their errno, strings quoted.
export function showResult(r: unknown): string {
  if (typeof r === 'object' && r !== null && 'outcome' in r && 'errno' in r) {
    const u = r as { outcome: string; errno: number | string };
    return `${u.outcome} (${u.errno === 'nonzero' ? 'non-zero' : u.errno})`;
  }
  if (typeof r === 'object' && r !== null && 'outcome' in r) {
    // The tool's report: allowed ones name the version `version` shows, actual ones what it read after.
    const t = r as { outcome: string; version?: string; after?: unknown };
    const v = t.version ?? (typeof t.after === 'string' ? t.after : undefined);
    return v === undefined ? t.outcome : `${t.outcome} ${v}`;
  }
  if (typeof r === 'object' && r !== null && 'major' in r) {
    const v = r as { major: number; minor: number; update: number };
    return `version ${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
  }
  return typeof r === 'string' ? JSON.stringify(r) : String(r);
}
