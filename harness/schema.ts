// Reading the files the harness is handed back (corpus entries, shard summaries) without
// trusting them: the limits below hold before any work starts, the file is read only up to
// its limit and only if it is a regular file (a FIFO or /dev/zero would block or never end),
// the JSON's nesting is measured on the text before it is parsed, and the value is checked
// by a zod schema, whose first problem becomes one line naming the file and the field.
import { z } from 'zod';
import { readRegular } from './files.ts';

/** What the harness accepts; stated in the README's "Limits" (keep both in step). */
export const LIMITS = {
  /** Bytes of one corpus entry or shard summary. */
  fileBytes: 4 * 1024 * 1024,
  /** Nesting of objects and arrays in one file (an entry needs 6, a shard summary 9). */
  depth: 32,
  /** Commands of one scenario (generators draw at most 60, with --budget deep). */
  commands: 200,
  /** CPUs of one host (scenario or --cpus); the bench measures hosts up to 256. */
  cpus: 256,
  /** Commands x CPUs of one scenario (--budget deep draws at most 60 commands, on up to 256 CPUs with --cpus). */
  cpuCommands: 16_384,
  /** Pages: of a TD, and of a corrupted image's fields that count pages. */
  pages: 1024,
  /** Interleaving choices of one scenario (generators draw at most 240). */
  schedule: 4096,
  /** Shard files of one --merge (--shard allows N up to 1024). */
  shards: 1024,
} as const;

/** A file the harness cannot take: the message names the file and the field. */
export class InputError extends Error {}

/**
 * The text of a regular file of at most LIMITS.fileBytes (files.ts readRegular: never a
 * FIFO's hang, never more than one byte past the limit read).
 */
export function readLimited(file: string, kind: string): string {
  const tooBig = `(whole file): larger than ${LIMITS.fileBytes} bytes, the limit for ${kind}`;
  return readRegular(file, LIMITS.fileBytes, kind, { tooBig, refuse: (m) => new InputError(m) }).toString('utf8');
}

/** The deepest nesting of [ and { outside strings; stops counting once past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0,
    max = 0,
    inString = false;
  for (let i = 0; i < text.length && max <= limit; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON text to a value, refusing deep nesting before JSON.parse sees it. */
export function parseJsonText(text: string, file: string): unknown {
  if (text.trim() === '') throw new InputError(`${file}: (whole file): empty file`);
  if (jsonDepth(text, LIMITS.depth) > LIMITS.depth) throw new InputError(`${file}: (whole file): nested deeper than ${LIMITS.depth} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError(`${file}: (whole file): not JSON or truncated (${printable((e as Error).message)})`);
  }
}

/**
 * The parser's message, which quotes the file, with every character outside printable ASCII
 * escaped: the bytes of a bad file must not reach the terminal (an escape sequence) or break
 * the one line an error is.
 */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A path or name a message quotes: at most 160 characters of it, longer than any a user types. */
export function clipped(s: string): string {
  return s.length > 160 ? `${s.slice(0, 160)}...` : s;
}

/** An error message as the tools print it: one line of printable ASCII, at most 1,000 characters (a flag's value or a file name can be anything). */
export function errorLine(message: string): string {
  const one = printable(message.replace(/[\r\n]+/g, ' '));
  return one.length > 1000 ? `${one.slice(0, 997)}...` : one;
}

/** A zod issue path as the field it names: `scenario.commands[3].kind`. */
export function fieldName(path: readonly PropertyKey[]): string {
  const s = path
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${printable(String(k).length > 40 ? `${String(k).slice(0, 37)}...` : String(k))}`))
    .join('')
    .replace(/^\./, '');
  return s || '(top level)';
}

/**
 * node's parseArgs error as one line in the words of the other usage errors: a flag without its
 * value (last, or followed by another flag) "needs a value"; otherwise the first sentence,
 * without the advice about '--'.
 */
export function argvError(e: unknown): string {
  const line = (e as Error).message.split('\n')[0]!;
  const flag = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(line)?.[1];
  if (flag) return `${flag} needs a value`;
  return line
    .replace(/\. (To specify a positional|This command does not take positional).*$/, '')
    .replace(/^Unknown option/, 'unknown option')
    .replace(/^Unexpected argument/, 'unexpected argument');
}

/**
 * A flag's value as a whole number from min to max, or `refuse` of the message saying why. Digits
 * only: Number() would take '', '1e1' and '0x10', and 'abc' as NaN.
 */
export function wholeNumber(flag: string, v: string, min: number, max: number, refuse: (message: string) => Error = (m) => new InputError(m)): number {
  const n = /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) throw refuse(`--${flag} must be a whole number from ${min} to ${max}, not ${show(v)}`);
  return n;
}

/** A value in a message: short, and never the whole of a big or deep one. */
export function show(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 37))}...` : JSON.stringify(v);
  return String(v);
}

/** What zod says, in the words of the other messages: "expected X, found Y". */
function problem(issue: z.core.$ZodIssue): string {
  const found = 'input' in issue ? `, found ${show(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing (expected ${issue.expected})`;
      // a schema's own words ("expected a whole number from 0 to 7") say more than zod's type name
      return issue.message.startsWith('Invalid')
        ? `expected ${issue.expected === 'object' ? 'an object' : issue.expected}${found}`
        : `${issue.message}${found}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}${found}`;
    case 'invalid_union': {
      const options = /Expected (.*)$/.exec(issue.message)?.[1]?.replace(/'/g, '').split(' | ').join(', ');
      return options ? `expected one of ${options}${found}` : `${issue.message}${found}`;
    }
    case 'too_big':
    case 'too_small':
      return Array.isArray(issue.input) ? issue.message : `${issue.message}${found}`;
    default:
      return issue.message;
  }
}

/** One line for the first problem zod found. */
export function issueLine(e: z.ZodError): string {
  const issue = e.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `${fieldName([...issue.path, issue.keys[0]!])}: unknown field`;
  return `${fieldName(issue.path)}: ${problem(issue)}`;
}

/** `value` through `schema`; a problem becomes an InputError naming the file and the field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw new InputError(`${file}: ${issueLine(r.error)}`);
  return r.data;
}

/** A whole number from min to max, with the range in its message. */
export const intIn = (min: number, max: number) =>
  z
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`);
