/**
 * The engine's databases by name, and which one is the default. Names are
 * looked up case-insensitively (as SQLite does for tables) but keep the
 * spelling they were created with for display. A script that creates or drops
 * databases saves the catalog first and restores it if the script fails, so
 * the catalog is plain data: a map and a default key.
 */
import type Database from 'better-sqlite3';
import { DdbError } from '../utils/errors';
import { StatementCache } from './statement-cache';
import { TableCache } from './table-access';

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAIN_DATABASE = 'main';
/** A bound on databases per node: each is a SQLite connection with its own memory. */
export const DATABASES_MAX = 1024;

export interface DatabaseEntry {
  /** The spelling used at creation. */
  readonly name: string;
  readonly connection: Database.Database;
  readonly tables: TableCache;
  readonly statements: StatementCache;
}

export interface CatalogState {
  readonly entries: ReadonlyMap<string, DatabaseEntry>;
  readonly default_key: string;
}

export function createEntry(name: string, connection: Database.Database): DatabaseEntry {
  return { name, connection, tables: new TableCache(connection), statements: new StatementCache(connection) };
}

/** `path`, when the name comes from a request body, is where in the body (e.g. `/columns/1`). */
export function validateName(name: unknown, what: string, path?: string): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new DdbError('INVALID_REQUEST', `${what} must match ${NAME_PATTERN.source}`, path === undefined ? {} : { path });
  }
  return name;
}

export class Catalog {
  private entries = new Map<string, DatabaseEntry>();
  private default_key = MAIN_DATABASE;

  find(name: string): DatabaseEntry | undefined {
    return this.entries.get(name.toLowerCase());
  }

  /** The named database, or the default one for null; throws DATABASE_NOT_FOUND. */
  resolve(name: string | null): DatabaseEntry {
    const wanted = name ?? this.default_key;
    const entry = this.find(wanted);
    if (entry === undefined) throw new DdbError('DATABASE_NOT_FOUND', `database ${wanted} does not exist`);
    return entry;
  }

  defaultName(): string {
    return this.resolve(null).name;
  }

  setDefault(name: string): void {
    this.default_key = this.resolve(name).name.toLowerCase();
  }

  isDefault(entry: DatabaseEntry): boolean {
    return entry.name.toLowerCase() === this.default_key;
  }

  /** Display names, sorted case-insensitively (names are unique that way). */
  names(): string[] {
    return this.all().map((entry) => entry.name);
  }

  all(): DatabaseEntry[] {
    return [...this.entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
  }

  add(entry: DatabaseEntry): void {
    if (this.entries.has(entry.name.toLowerCase())) throw new Error(`catalog: database ${entry.name} exists`);
    if (this.entries.size >= DATABASES_MAX) {
      throw new DdbError('INVALID_REQUEST', `a node holds at most ${DATABASES_MAX} databases`);
    }
    this.entries.set(entry.name.toLowerCase(), entry);
  }

  /** Removes a database; when it was the default, main becomes the default. Does not close it. */
  remove(entry: DatabaseEntry): void {
    const key = entry.name.toLowerCase();
    if (key === MAIN_DATABASE) throw new Error('catalog: main cannot be removed');
    this.entries.delete(key);
    if (this.default_key === key) this.default_key = MAIN_DATABASE;
  }

  /** Puts `next` where `entry` was (the same name), keeping the default. Does not close `entry`. */
  replace(entry: DatabaseEntry, next: DatabaseEntry): void {
    const key = entry.name.toLowerCase();
    if (this.entries.get(key) !== entry || next.name.toLowerCase() !== key) throw new Error(`catalog: cannot replace ${entry.name}`);
    this.entries.set(key, next);
  }

  save(): CatalogState {
    return { entries: new Map(this.entries), default_key: this.default_key };
  }

  restore(state: CatalogState): void {
    this.entries = new Map(state.entries);
    this.default_key = state.default_key;
  }

  /** Throws unless `entries` could replace this catalog's: main and the default among them, each name once. */
  checkReplacement(entries: DatabaseEntry[], default_name: string): void {
    const names = new Set(entries.map((entry) => entry.name.toLowerCase()));
    if (names.size !== entries.length || !names.has(MAIN_DATABASE) || !names.has(default_name.toLowerCase())) {
      throw new Error('catalog: a snapshot must hold main and its default database, each name once');
    }
  }

  /** Replaces every database (restore from a snapshot); returns the entries replaced. */
  replaceAll(entries: DatabaseEntry[], default_name: string): DatabaseEntry[] {
    this.checkReplacement(entries, default_name);
    const next = new Map(entries.map((entry) => [entry.name.toLowerCase(), entry]));
    const default_key = default_name.toLowerCase();
    const replaced = [...this.entries.values()];
    this.entries = next;
    this.default_key = default_key;
    return replaced;
  }
}
