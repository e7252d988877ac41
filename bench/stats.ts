// Small numeric helpers: medians, wall-clock sampling, a log-log fit. Timers live only in bench/.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A point in time on two clocks, in milliseconds: wall (performance.now) and the CPU time this
 * process has used (user + system, every thread: GC helpers included). Under other load on the
 * machine wall time stretches and CPU time does not, so costs compared across sizes use CPU.
 */
export interface Clock {
  readonly wall: number;
  readonly cpu: number;
}

export function now(): Clock {
  const u = process.cpuUsage();
  return { wall: performance.now(), cpu: (u.user + u.system) / 1000 };
}

export function since(a: Clock, b: Clock = now()): Clock {
  return { wall: b.wall - a.wall, cpu: b.cpu - a.cpu };
}

export const ZERO: Clock = { wall: 0, cpu: 0 };

export function plus(a: Clock, b: Clock): Clock {
  return { wall: a.wall + b.wall, cpu: a.cpu + b.cpu };
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
