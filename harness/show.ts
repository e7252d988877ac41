// Results as a counterexample prints them: versions as sysfs shows them, update outcomes with
// their errno, strings quoted.
export function showResult(r: unknown): string {
  if (typeof r === 'object' && r !== null && 'outcome' in r) {
    const u = r as { outcome: string; errno: number | string };
    return `${u.outcome} (${u.errno === 'nonzero' ? 'non-zero' : u.errno})`;
  }
  if (typeof r === 'object' && r !== null && 'major' in r) {
    const v = r as { major: number; minor: number; update: number };
    return `version ${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
  }
  return typeof r === 'string' ? JSON.stringify(r) : String(r);
}
