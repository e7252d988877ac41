// Small numeric helpers: medians, wall-clock sampling, a log-log fit. Timers live only in bench/.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

/** Mean wall time of fn, repeated until at least minMs have passed (so short runs are not all jitter). */
export function sampleMs(fn: () => void, minMs: number): number {
  let n = 0;
  const t0 = performance.now();
  let ms = 0;
  do {
    fn();
    n++;
    ms = performance.now() - t0;
  } while (ms < minMs);
  return ms / n;
}

/** Least-squares slope of log(y) on log(x): the exponent k in y ~ x^k. */
export function fitExponent(points: readonly { x: number; y: number }[]): number {
  const p = points.filter((q) => q.x > 0 && q.y > 0).map((q) => ({ x: Math.log(q.x), y: Math.log(q.y) }));
  if (p.length < 2) return NaN;
  const mx = p.reduce((s, q) => s + q.x, 0) / p.length;
  const my = p.reduce((s, q) => s + q.y, 0) / p.length;
  const sxy = p.reduce((s, q) => s + (q.x - mx) * (q.y - my), 0);
  const sxx = p.reduce((s, q) => s + (q.x - mx) ** 2, 0);
  return sxy / sxx;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
