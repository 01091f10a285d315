/**
 * The two spellings of a table and of a database. Query strings took `table`
 * and `db`, bodies `table_name` and `db_name`, and clients mix them up, so both
 * places accept both. Before validation the other spelling is renamed to the
 * one the schema (and so the handler) reads; a request that gives both
 * spellings with different values is refused, since ddb cannot know which one
 * was meant. The renames are remembered so an error names the field as sent.
 */
import { DdbError } from '../utils/errors';

export type Place = 'body' | 'query';

/** Each pair: [the body's spelling, the query string's spelling]. */
const SPELLINGS = [
  ['table_name', 'table'],
  ['db_name', 'db'],
] as const;

export interface Respelled {
  value: Record<string, unknown>;
  /** The schema's spelling → the spelling the client sent, for each field renamed. */
  sent_as: Map<string, string>;
}

/**
 * Renames the other spelling of each field the schema takes (`known`) to the
 * place's own spelling. Leaves `input` as it is; fields the schema does not
 * take are left for the schema to refuse.
 */
export function respell(input: Record<string, unknown>, place: Place, known: ReadonlySet<string>): Respelled {
  const sent_as = new Map<string, string>();
  let value = input;
  for (const [bodySpelling, querySpelling] of SPELLINGS) {
    const own = place === 'body' ? bodySpelling : querySpelling;
    const other = place === 'body' ? querySpelling : bodySpelling;
    if (!known.has(own) || !Object.prototype.hasOwnProperty.call(value, other)) continue;
    if (Object.prototype.hasOwnProperty.call(value, own) && !sameValue(value[own], value[other])) {
      throw new DdbError('INVALID_REQUEST', `'${other}' and '${own}' are the same field and give different values; give one`, {
        path: `/${other}`,
      });
    }
    if (value === input) value = { ...input };
    value[own] = value[other];
    delete value[other];
    sent_as.set(own, other);
  }
  return { value, sent_as };
}

/** Request values are JSON (strings, or arrays of them for a repeated query parameter). */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
