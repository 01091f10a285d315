/**
 * The snapshot format: every database's serialize() image plus the metadata
 * needed to rebuild the engine exactly, in one buffer.
 *
 *   "DDBSNAP1" | metadata length (u32 LE) | metadata JSON (UTF-8) | images, in metadata order
 *
 * Besides names and the default database, the metadata carries each
 * connection's last_insert_rowid() and changes(). They are connection state,
 * not file state, and a statement can read them before it changes them, so a
 * node restored from a snapshot must start with the values a node that
 * replayed the log has, or the two could store different values.
 */
import type Database from 'better-sqlite3';

const MAGIC = Buffer.from('DDBSNAP1', 'latin1');
const FORMAT = 1;

export interface SessionCounters {
  last_insert_rowid: bigint;
  changes: number;
}

export interface DatabaseImage {
  name: string;
  image: Buffer;
  counters: SessionCounters;
}

export interface SnapshotContents {
  default_db: string;
  databases: DatabaseImage[];
}

interface MetadataDatabase {
  name: string;
  bytes: number;
  last_insert_rowid: string;
  changes: number;
}

interface Metadata {
  format: number;
  default_db: string;
  databases: MetadataDatabase[];
}

/** The snapshot as parts to write in order, without copying the database images into one buffer. */
export function encodeSnapshotParts(contents: SnapshotContents): Uint8Array[] {
  const metadata: Metadata = {
    format: FORMAT,
    default_db: contents.default_db,
    databases: contents.databases.map(({ name, image, counters }) => ({
      name,
      bytes: image.length,
      last_insert_rowid: counters.last_insert_rowid.toString(),
      changes: counters.changes,
    })),
  };
  const json = Buffer.from(JSON.stringify(metadata), 'utf8');
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(json.length, 0);
  return [MAGIC, lengthField, json, ...contents.databases.map((database) => database.image)];
}

/** Throws Error on anything that is not a snapshot: a corrupt snapshot is a bug, not a user error. */
export function decodeSnapshot(snapshot: Uint8Array): SnapshotContents {
  const buffer = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (buffer.length < MAGIC.length + 4 || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('snapshot: missing DDBSNAP1 header');
  }
  const metadata_bytes = buffer.readUInt32LE(MAGIC.length);
  let offset = MAGIC.length + 4 + metadata_bytes;
  if (offset > buffer.length) throw new Error('snapshot: metadata runs past the end');
  const metadata = parseMetadata(buffer.subarray(MAGIC.length + 4, offset).toString('utf8'));
  const databases = metadata.databases.map((database) => {
    const end = offset + database.bytes;
    if (end > buffer.length) throw new Error(`snapshot: image of ${database.name} runs past the end`);
    // A view: SQLite copies the image into memory of its own when it opens it (engine.openConnection).
    const image = buffer.subarray(offset, end);
    offset = end;
    const counters = { last_insert_rowid: BigInt(database.last_insert_rowid), changes: database.changes };
    return { name: database.name, image, counters };
  });
  if (offset !== buffer.length) throw new Error('snapshot: trailing bytes after the last image');
  return { default_db: metadata.default_db, databases };
}

function parseMetadata(text: string): Metadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('snapshot: metadata is not JSON');
  }
  const metadata = value as Metadata;
  const valid =
    typeof value === 'object' &&
    value !== null &&
    metadata.format === FORMAT &&
    typeof metadata.default_db === 'string' &&
    Array.isArray(metadata.databases) &&
    metadata.databases.every(isMetadataDatabase);
  if (!valid) throw new Error('snapshot: metadata has the wrong shape');
  return metadata;
}

function isMetadataDatabase(value: unknown): value is MetadataDatabase {
  const database = value as MetadataDatabase;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof database.name === 'string' &&
    Number.isSafeInteger(database.bytes) &&
    database.bytes >= 0 &&
    typeof database.last_insert_rowid === 'string' &&
    /^-?[0-9]{1,19}$/.test(database.last_insert_rowid) &&
    Number.isSafeInteger(database.changes) &&
    database.changes >= 0
  );
}

/**
 * A connection's image. A database that was never written serializes to zero
 * bytes, which better-sqlite3 returns as a detached buffer (unusable in
 * Buffer.concat), so that case gets a fresh empty buffer.
 */
export function serializeConnection(connection: Database.Database): Buffer {
  const image = connection.serialize();
  return image.length === 0 ? Buffer.alloc(0) : image;
}

export function readSessionCounters(connection: Database.Database): SessionCounters {
  const [last_insert_rowid, changes] = connection
    .prepare('SELECT last_insert_rowid(), changes()')
    .raw(true)
    .safeIntegers(true)
    .get() as [bigint, bigint];
  return { last_insert_rowid, changes: Number(changes) };
}

/**
 * Gives a connection the counters a snapshot recorded, with statements
 * on scratch TEMP tables (dropped again, and DDL leaves both counters alone):
 * fill one table with `changes` rows, insert the recorded rowid into another
 * (last_insert_rowid), then touch every row of the first (changes).
 */
export function restoreSessionCounters(connection: Database.Database, counters: SessionCounters): void {
  connection.exec('CREATE TEMP TABLE ddb_restore_rows(x); CREATE TEMP TABLE ddb_restore_rowid(x)');
  connection
    .prepare(
      'WITH RECURSIVE numbers(n) AS (SELECT 1 WHERE ? > 0 UNION ALL SELECT n + 1 FROM numbers WHERE n < ?) ' +
        'INSERT INTO temp.ddb_restore_rows SELECT n FROM numbers',
    )
    .run(counters.changes, counters.changes);
  connection.prepare('INSERT INTO temp.ddb_restore_rowid(rowid) VALUES (?)').run(counters.last_insert_rowid);
  connection.exec('UPDATE temp.ddb_restore_rows SET x = x');
  connection.exec('DROP TABLE temp.ddb_restore_rows; DROP TABLE temp.ddb_restore_rowid');
}
