/**
 * Where a model file's bytes come from: a path on disk or bytes already in memory.
 *
 * @packageDocumentation
 */
import { readFile, writeFile } from 'node:fs/promises';

/** A file path, or the file's whole contents (a Uint8Array or Node Buffer). */
export type FileSource = string | Uint8Array;

/** The bytes of `source`: read from disk for a path, as given otherwise (never copied). */
export async function readSource(source: FileSource): Promise<Uint8Array> {
  if (typeof source === 'string') return readFile(source);
  if (source instanceof Uint8Array) return source;
  throw new TypeError(`expected a file path (string) or the file's bytes (Uint8Array), got ${typeof source}`);
}

/**
 * Runs `parse` on the bytes of `source`; for a path, errors are prefixed with the path so that a message
 * names the file it is about. The original error stays reachable as `cause`.
 */
export async function parseSource<T>(source: FileSource, parse: (bytes: Uint8Array) => T): Promise<T> {
  const bytes = await readSource(source);
  if (typeof source !== 'string') return parse(bytes);
  try {
    return parse(bytes);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw new Error(`${source}: ${error.message}`, { cause: error });
  }
}

/** Writes `bytes` to `path`, replacing any file there. */
export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string') throw new TypeError(`expected a file path (string), got ${typeof path}`);
  await writeFile(path, bytes);
}
