// A small validator for the JSON files the harness reads back (corpus entries, shard
// summaries): each schema checks one value and names the first field that is wrong, so a bad
// file gives one line that says where, never a stack trace.

export class SchemaError extends Error {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field || '(top level)'}: ${problem}`);
  }
}

export interface Schema<T> {
  /** What the schema accepts, for messages ("a whole number", "one of a, b"). */
  readonly expected: string;
  parse(v: unknown, field: string): T;
}

const show = (v: unknown): string => {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

function fail(field: string, expected: string, v: unknown): never {
  throw new SchemaError(field, v === undefined ? `missing (expected ${expected})` : `expected ${expected}, found ${show(v)}`);
}

export const str: Schema<string> = {
  expected: 'a string',
  parse: (v, f) => (typeof v === 'string' ? v : fail(f, 'a string', v)),
};

export const bool: Schema<boolean> = {
  expected: 'true or false',
  parse: (v, f) => (typeof v === 'boolean' ? v : fail(f, 'true or false', v)),
};

export function int(min: number, max: number): Schema<number> {
  const expected = `a whole number from ${min} to ${max}`;
  return { expected, parse: (v, f) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(f, expected, v)) };
}

export function oneOf<const T extends string | number>(values: readonly T[], what?: string): Schema<T> {
  const expected = what ?? `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return { expected, parse: (v, f) => ((values as readonly unknown[]).includes(v) ? (v as T) : fail(f, expected, v)) };
}

export function literal<const T extends string | number>(value: T): Schema<T> {
  return oneOf([value]);
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  const expected = `${s.expected} or null`;
  return { expected, parse: (v, f) => (v === null ? null : v === undefined ? fail(f, expected, v) : s.parse(v, f)) };
}

export function array<T>(item: Schema<T>, maxLength = 100_000): Schema<T[]> {
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    parse: (v, f) => {
      if (!Array.isArray(v)) return fail(f, expected, v);
      if (v.length > maxLength) throw new SchemaError(f, `more than ${maxLength} entries`);
      return v.map((x, i) => item.parse(x, `${f}[${i}]`));
    },
  };
}

type Fields = Record<string, Schema<unknown>>;
/** Optional fields are marked by wrapping their schema with `optional`. */
export interface Optional<T> extends Schema<T | undefined> { readonly optional: true }
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends Optional<unknown> ? K : never }[keyof F];
type Parsed<S> = S extends Schema<infer T> ? T : never;
export type ObjectOf<F extends Fields> =
  { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Parsed<F[K]> } & { -readonly [K in OptionalKeys<F>]?: Exclude<Parsed<F[K]>, undefined> };

export function optional<T>(s: Schema<T>): Optional<T> {
  return { optional: true, expected: s.expected, parse: (v, f) => (v === undefined ? undefined : s.parse(v, f)) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object with exactly these fields: a field it does not know is an error too (a typo, or a newer format). */
export function object<F extends Fields>(fields: F, what = 'an object'): Schema<ObjectOf<F>> {
  return {
    expected: what,
    parse: (v, f) => {
      if (!isObject(v)) return fail(f, what, v);
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(fields)) {
        const x = s.parse(v[k], f ? `${f}.${k}` : k);
        if (x !== undefined) out[k] = x;
      }
      for (const k of Object.keys(v)) if (!(k in fields)) throw new SchemaError(f ? `${f}.${k}` : k, 'unknown field');
      return out as ObjectOf<F>;
    },
  };
}

/** A union told apart by its `kind` field. */
export function byKind<T extends { kind: string }>(cases: { [K in T['kind']]: Schema<Extract<T, { kind: K }>> }): Schema<T> {
  const kinds = Object.keys(cases);
  const expected = `an object whose kind is one of ${kinds.join(', ')}`;
  return {
    expected,
    parse: (v, f) => {
      if (!isObject(v)) return fail(f, expected, v);
      const s = (cases as Record<string, Schema<T>>)[v.kind as string];
      if (typeof v.kind !== 'string' || !s) return fail(f ? `${f}.kind` : 'kind', `one of ${kinds.join(', ')}`, v.kind);
      return s.parse(v, f);
    },
  };
}

/** A schema with an extra check on the parsed value; `check` returns a problem or null. */
export function refine<T>(s: Schema<T>, check: (v: T) => string | null): Schema<T> {
  return {
    expected: s.expected,
    parse: (v, f) => {
      const x = s.parse(v, f);
      const problem = check(x);
      if (problem) throw new SchemaError(f, problem);
      return x;
    },
  };
}
