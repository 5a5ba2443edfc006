import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * A snapshot: the whole state of one journal at the start of a generation. Each collection is a list of
 * `[key, stored value]` pairs, not an object, so that the order of keys (the order users are listed in)
 * survives a reload: JSON objects put integer-like keys first.
 */
export interface Snapshot {
  version: 2;
  /** Which journal this is (`db`, `sync`): a snapshot copied onto the other name is refused. */
  journal: string;
  /** The journal file that continues this snapshot is `<journal>.<generation>.journal`. */
  generation: number;
  /** Fingerprint of the key the secrets were encrypted with (see keyFingerprint). */
  keyId?: string;
  collections: Record<string, [string, unknown][]>;
}

export const notADatabase = (file: string) =>
  new Error(`${file} does not look like a connector database (unexpected structure).`);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isPairList = (value: unknown): value is [string, unknown][] =>
  Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string');

export function parseSnapshot(data: unknown, file: string, journal: string): Snapshot {
  const d = data as Partial<Snapshot>;
  const ok =
    isObject(d) &&
    d.version === 2 &&
    d.journal === journal &&
    Number.isSafeInteger(d.generation) &&
    (d.generation ?? 0) >= 1 &&
    (d.keyId === undefined || typeof d.keyId === 'string') &&
    isObject(d.collections) &&
    Object.values(d.collections).every(isPairList);
  if (!ok) throw notADatabase(file);
  return d as Snapshot;
}

/** The parsed file and the identity of the very file read (so a later rename over it is noticed). */
export async function readJsonFile(file: string): Promise<{ data: unknown; stats: Stats } | undefined> {
  let text: string;
  let stats: Stats;
  try {
    const handle = await open(file, 'r');
    try {
      stats = await handle.stat();
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Could not read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { data: JSON.parse(text) as unknown, stats };
  } catch (error) {
    throw new Error(`Could not read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Makes renames and new names in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Directories cannot be opened or synced on every platform (Windows); the rename is still atomic.
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `text` to a new temp file beside `file` (unique per process and call, so two processes never
 * share one) and fsyncs it; `commitTemp` then puts it in place.
 */
export async function writeTemp(file: string, text: string): Promise<string> {
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return temp;
}

/** Renames a temp file over `file` and makes that durable: readers see the old content or the new. */
export async function commitTemp(temp: string, file: string): Promise<Stats> {
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDir(path.dirname(file));
  return stat(file);
}

/** Replaces `file` atomically and durably. */
export async function writeFileDurably(file: string, text: string): Promise<Stats> {
  return commitTemp(await writeTemp(file, text), file);
}

/** Whether `name` is a temp file of writeTemp for `file`. */
export const isTempOf = (name: string, file: string) =>
  name.startsWith(`${path.basename(file)}.`) && /\.\d+-[0-9a-f]{8}\.tmp$/.test(name);
