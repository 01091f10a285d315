/**
 * The few file-system steps storage needs, each with its durability rule. All
 * synchronous but the *Async ones: the node persists between ready() and
 * sending, and Raft forbids answering before the data is on disk. Only a
 * compaction, which answers nobody, is written while the event loop goes on.
 *
 * `fsync: false` skips every fsync (files and directories). Tests use it for
 * speed; the product always fsyncs.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Writes every byte of every part at the file's current position (appends for 'a' files). */
export function writeAll(fd: number, parts: Uint8Array[]): void {
  for (const part of parts) {
    let written = 0;
    // writeSync may write less than asked (a full disk, a signal); loop until done or thrown.
    while (written < part.byteLength) {
      written += fs.writeSync(fd, part, written, part.byteLength - written);
    }
  }
}

/** writeAll() off the event loop, for a large file written while the node goes on serving. */
export async function writeAllAsync(file: fs.promises.FileHandle, parts: Uint8Array[]): Promise<void> {
  for (const part of parts) {
    let written = 0;
    while (written < part.byteLength) {
      written += (await file.write(part, written, part.byteLength - written)).bytesWritten;
    }
  }
}

/** Makes a directory's entries (a created or renamed file) durable. */
export function fsyncDirectory(dir: string, fsync: boolean): void {
  if (!fsync) return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function temporaryPath(filePath: string): string {
  return `${filePath}.tmp`;
}

/**
 * Replaces `filePath` atomically: write a temporary file, fsync it, rename it over
 * the old one, fsync the directory. After a crash the path holds either the old
 * content or the new, never a mix; a leftover temporary file is garbage.
 */
export function replaceFileDurably(filePath: string, parts: Uint8Array[], fsync: boolean): void {
  const temporary = temporaryPath(filePath);
  const fd = fs.openSync(temporary, 'w');
  try {
    writeAll(fd, parts);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, filePath);
  fsyncDirectory(path.dirname(filePath), fsync);
}

/** fsyncDirectory() off the event loop. */
export async function fsyncDirectoryAsync(dir: string, fsync: boolean): Promise<void> {
  if (!fsync) return;
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file written and fsynced off the event loop, not yet in place. */
export async function writeFileDurablyAsync(filePath: string, parts: Uint8Array[], fsync: boolean): Promise<void> {
  const file = await fs.promises.open(filePath, 'w');
  try {
    await writeAllAsync(file, parts);
    if (fsync) await file.sync();
  } finally {
    await file.close();
  }
}

/** replaceFileDurably() off the event loop, with the same steps in the same order. */
export async function replaceFileDurablyAsync(filePath: string, parts: Uint8Array[], fsync: boolean): Promise<void> {
  const temporary = temporaryPath(filePath);
  await writeFileDurablyAsync(temporary, parts, fsync);
  await fs.promises.rename(temporary, filePath);
  await fsyncDirectoryAsync(path.dirname(filePath), fsync);
}

/** Removes the temporary file of a replacement a crash interrupted, if any. */
export function removeTemporary(filePath: string): void {
  fs.rmSync(temporaryPath(filePath), { force: true });
}

/** The file's bytes, or null if it does not exist. */
export function readFileIfExists(filePath: string): Buffer | null {
  try {
    return fs.readFileSync(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function readFileIfExistsAsync(filePath: string): Promise<Buffer | null> {
  try {
    return await fs.promises.readFile(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Cuts a torn tail off a file and makes the cut durable before anything is appended. */
export function truncateDurably(filePath: string, bytes: number, fsync: boolean): void {
  const fd = fs.openSync(filePath, 'r+');
  try {
    fs.ftruncateSync(fd, bytes);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
