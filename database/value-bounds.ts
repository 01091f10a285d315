/**
 * How large a value the amplifying built-ins (zeroblob, randomblob, printf,
 * replace, hex, quote) would make, computed from their arguments before they
 * make it, so deterministic-functions.ts can refuse it first. Sizes are bytes
 * of the value as SQLite stores it (UTF-8 for text).
 */

type SqlValue = string | number | bigint | Buffer | null;

/** Beyond any limit; keeps arithmetic on huge requested sizes exact enough. */
const HUGE = Number.MAX_SAFE_INTEGER;

/** SQLite's integer reading of a value: leading digits of text, truncation of reals, 0 otherwise. */
export function integerOf(value: unknown): number {
  if (typeof value === 'bigint') return value > BigInt(HUGE) ? HUGE : value < -BigInt(HUGE) ? -HUGE : Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? Math.max(-HUGE, Math.min(HUGE, Math.trunc(value))) : 0;
  if (typeof value === 'string') {
    const match = /^\s*[+-]?[0-9]+/.exec(value);
    return match === null ? 0 : Math.max(-HUGE, Math.min(HUGE, Number(match[0])));
  }
  return 0;
}

/** The value as the bytes SQLite's text functions see. */
function bytesOf(value: SqlValue): Buffer {
  if (value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(String(value), 'utf8');
}

function sizeOf(value: SqlValue): number {
  if (value === null) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  return 32;
}

/** Non-overlapping occurrences, left to right, as SQLite's replace() finds them. */
function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

/**
 * The size of the value `name(args)` makes (for '' : the size of args[0]).
 * An upper bound for numbers; exact for text and blobs.
 */
export function measuredSize(name: string, args: readonly SqlValue[]): number {
  switch (name) {
    case 'replace': {
      const [subject, pattern, replacement] = args;
      if (subject == null || pattern == null || replacement == null) return 0;
      const subject_bytes = sizeOf(subject);
      const pattern_bytes = sizeOf(pattern);
      const replacement_bytes = sizeOf(replacement);
      if (pattern_bytes === 0 || replacement_bytes <= pattern_bytes) return subject_bytes;
      const bound = subject_bytes + Math.floor(subject_bytes / pattern_bytes) * (replacement_bytes - pattern_bytes);
      if (bound <= 1_048_576) return bound; // small enough that counting is not worth it
      return subject_bytes + occurrences(bytesOf(subject), bytesOf(pattern)) * (replacement_bytes - pattern_bytes);
    }
    case 'hex':
      return 2 * sizeOf(args[0] ?? null);
    case 'quote': {
      const value = args[0] ?? null;
      if (Buffer.isBuffer(value)) return 2 * value.length + 3;
      if (typeof value === 'string') return sizeOf(value) + occurrences(bytesOf(value), Buffer.from("'")) + 2;
      return 32;
    }
    default:
      return sizeOf(args[0] ?? null);
  }
}

/**
 * Every width and precision a printf() format asks for (`%5000000d`,
 * `%.*c` with its argument), so a huge one is refused before it is made.
 * Follows SQLite's printf: flags `-+ #0,!`, width digits or `*`, `.` and
 * precision digits or `*`, length modifiers `l`/`ll`, then the conversion.
 */
export function printfWidths(args: readonly SqlValue[]): number[] {
  const format = args[0];
  if (format === null || format === undefined) return [];
  const text = Buffer.isBuffer(format) ? format.toString('utf8') : String(format);
  const widths: number[] = [];
  let argument = 1;
  const takeArgument = (): number => Math.abs(integerOf(args[argument++] ?? null));
  for (let at = text.indexOf('%'); at >= 0 && at < text.length; at = text.indexOf('%', at)) {
    at++;
    while (at < text.length && '-+ #0,!'.includes(text[at])) at++;
    // A width, then after '.' a precision: each `*` (the next argument) or digits.
    const readCount = (): void => {
      if (text[at] === '*') {
        widths.push(takeArgument());
        at++;
        return;
      }
      const start = at;
      while (at < text.length && text[at] >= '0' && text[at] <= '9') at++;
      if (at > start) widths.push(digitsValue(text.slice(start, at)));
    };
    readCount();
    if (text[at] === '.') {
      at++;
      readCount();
    }
    while (text[at] === 'l') at++;
    const conversion = text[at];
    at++;
    if (conversion !== '%' && conversion !== undefined) argument++;
  }
  return widths;
}

function digitsValue(digits: string): number {
  return digits.length > 15 ? HUGE : Number(digits);
}
