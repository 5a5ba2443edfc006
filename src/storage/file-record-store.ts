import { createHash, hash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LocalRecord, RecordStore, UpsertOptions, UpsertOutcome } from './records.js';

/**
 * A RecordStore on plain JSON files: `dir/<store folder>/<entity>/<shard>.json`, each shard holding
 * up to 1000 consecutive numeric ids (`12.json` = ids 12000–12999), so a sync page touches one or two
 * files and memory stays bounded by a few shards whatever the catalog size. Non-numeric ids go to
 * one of 256 hash buckets (`h-3f.json`). Writes go through a temp file and a rename, so a reader
 * (or a crash) never sees half a shard. One process writes; others may read at the same time.
 */

export const SHARD_SIZE = 1000;
const COUNTS_FILE = '_counts.json';
const ENTITY_NAME = /^[a-z][a-z0-9_-]{0,63}$/i;

export interface FileRecordStoreOptions {
  /** Shards kept parsed in memory (default 4). */
  cacheShards?: number;
}

/** sha256 of the data as canonical JSON (keys sorted at every level), so key order never counts as a change. */
export function hashRecordData(data: unknown): string {
  // One-shot hash: a Hash object per record costs more than hashing its few hundred bytes.
  return hash('sha256', canonicalJson(data), 'hex');
}

// Loops and string appends rather than map/filter/join: this runs for every synced record, and the
// output must stay byte for byte the same, or every stored hash would read as a change.
function canonicalJson(value: unknown): string {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (i > 0) out += ',';
      out += isOmitted(v) ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const k of keys) {
    const v = object[k];
    if (isOmitted(v)) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

const isOmitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * The folder for a store identifier (a consumer key or an origin): a readable slug plus a hash of
 * the whole value, so two stores never share a folder and nothing in the value can leave `dir`.
 */
export function storeFolderName(store: string): string {
  if (store === '') throw new TypeError('The store key must not be empty.');
  const slug = store
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const digest = createHash('sha256').update(store).digest('hex').slice(0, 16);
  return slug ? `${slug}-${digest}` : digest;
}

/** The shard an id lives in: `<n>` for numeric ids, `h-<xx>` otherwise. */
export function shardOf(id: string): string {
  const n = numericId(id);
  if (n !== undefined) return String(Math.floor(n / SHARD_SIZE));
  return `h-${createHash('sha256').update(id).digest('hex').slice(0, 2)}`;
}

function numericId(id: string): number | undefined {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  return Number(id);
}

/** Numeric ids by value (then as text, for `7` vs `007`); other ids after them, as text. */
function compareIds(a: string, b: string): number {
  const na = numericId(a);
  const nb = numericId(b);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if (na !== undefined && nb === undefined) return -1;
  if (na === undefined && nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric shards in order, then hash buckets. */
function compareShards(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : undefined;
  const nb = /^\d+$/.test(b) ? Number(b) : undefined;
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Identifies one version of a file: a rename always brings a new inode and mtime. */
interface Stamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

const sameStamp = (a: Stamp | undefined, b: Stamp | undefined) =>
  a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

type Shard = Map<string, LocalRecord>;
type CountsIndex = Record<string, Stamp & { count: number }>;

async function statStamp(file: string): Promise<Stamp | undefined> {
  try {
    const s = await stat(file);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readShardFile(file: string): Promise<Shard> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  // A Map, not the parsed object: an id such as "__proto__" must stay a plain key.
  return new Map(Object.entries(JSON.parse(text) as Record<string, LocalRecord>));
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    // Without the flush, a crash right after the rename can leave an empty file on some file systems.
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function validateRecord(record: LocalRecord, at: number): void {
  if (typeof record?.id !== 'string' || record.id === '') {
    throw new TypeError(`Record ${at}: id must be a non-empty string.`);
  }
  if (typeof record.hash !== 'string' || record.hash === '') {
    throw new TypeError(`Record ${at} (id ${record.id}): hash must be a non-empty string.`);
  }
}

/** Small LRU: a Map keeps insertion order, so re-inserting on use puts the oldest first. */
class ShardCache {
  private readonly entries = new Map<string, { shard: Shard; stamp: Stamp | undefined }>();
  constructor(private readonly limit: number) {}

  get(file: string) {
    const entry = this.entries.get(file);
    if (entry) {
      this.entries.delete(file);
      this.entries.set(file, entry);
    }
    return entry;
  }

  set(file: string, shard: Shard, stamp: Stamp | undefined): void {
    this.entries.delete(file);
    this.entries.set(file, { shard, stamp });
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

export function createFileRecordStore(dir: string, options: FileRecordStoreOptions = {}): RecordStore {
  const root = path.resolve(dir);
  const cache = new ShardCache(Math.max(1, options.cacheShards ?? 4));
  const queues = new Map<string, Promise<unknown>>();
  let closed = false;

  function entityDir(store: string, entity: string): string {
    if (closed) throw new Error('The record store is closed.');
    if (typeof store !== 'string') throw new TypeError('The store key must be a string.');
    if (!ENTITY_NAME.test(entity)) {
      throw new TypeError(`Entity names are letters, digits, "_" and "-" (got ${JSON.stringify(entity)}).`);
    }
    const folder = path.join(root, storeFolderName(store), entity);
    // storeFolderName cannot produce a separator or "..", but a path bug here would write anywhere.
    const relative = path.relative(root, folder);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(`Refusing a path outside ${root}.`);
    }
    return folder;
  }

  /** Runs writes (and counts, which may fix the index) for one (store, entity) one at a time. */
  function serialised<T>(key: string, task: () => Promise<T>): Promise<T> {
    const tail = queues.get(key) ?? Promise.resolve();
    const result = tail.then(task);
    const settled = result.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return result;
  }

  async function loadShard(file: string): Promise<Shard> {
    const stamp = await statStamp(file);
    const cached = cache.get(file);
    if (cached && (sameStamp(cached.stamp, stamp) || (!cached.stamp && !stamp))) return cached.shard;
    const shard = stamp ? await readShardFile(file) : new Map<string, LocalRecord>();
    cache.set(file, shard, stamp);
    return shard;
  }

  async function readCounts(folder: string): Promise<CountsIndex> {
    try {
      return JSON.parse(await readFile(path.join(folder, COUNTS_FILE), 'utf8')) as CountsIndex;
    } catch {
      // Missing or unreadable: count() rebuilds it from the shards.
      return {};
    }
  }

  async function upsertShard(
    file: string,
    batch: { record: LocalRecord; at: number }[],
    outcomes: UpsertOutcome[],
    options: UpsertOptions,
  ) {
    const current = await loadShard(file);
    // Changes go to a copy, so a failed write leaves the cache as the disk is.
    const next = new Map(current);
    let changed = false;
    for (const { record, at } of batch) {
      const stored = next.get(record.id);
      if (
        stored?.hash === record.hash ||
        (options.ifNotOlder && stored && stored.updatedAt > record.updatedAt)
      ) {
        outcomes[at] = 'unchanged';
        continue;
      }
      outcomes[at] = stored ? 'updated' : 'created';
      next.set(record.id, {
        id: record.id,
        updatedAt: record.updatedAt,
        hash: record.hash,
        data: structuredClone(record.data),
      });
      changed = true;
    }
    if (!changed) return undefined;
    await writeAtomically(file, JSON.stringify(Object.fromEntries(next)));
    const stamp = await statStamp(file);
    cache.set(file, next, stamp);
    return stamp && { ...stamp, count: next.size };
  }

  return {
    async upsert(store, entity, records, options = {}) {
      const folder = entityDir(store, entity);
      records.forEach(validateRecord);
      return serialised(folder, async () => {
        const byShard = new Map<string, { record: LocalRecord; at: number }[]>();
        records.forEach((record, at) => {
          const shard = shardOf(record.id);
          const group = byShard.get(shard);
          if (group) group.push({ record, at });
          else byShard.set(shard, [{ record, at }]);
        });
        const outcomes: UpsertOutcome[] = new Array<UpsertOutcome>(records.length);
        await mkdir(folder, { recursive: true });
        const counts: CountsIndex = {};
        for (const shard of [...byShard.keys()].sort(compareShards)) {
          const entry = await upsertShard(
            path.join(folder, `${shard}.json`),
            byShard.get(shard) ?? [],
            outcomes,
            options,
          );
          if (entry) counts[shard] = entry;
        }
        if (Object.keys(counts).length > 0) {
          const index = { ...(await readCounts(folder)), ...counts };
          await writeAtomically(path.join(folder, COUNTS_FILE), JSON.stringify(index));
        }
        return outcomes;
      });
    },

    async get(store, entity, id) {
      const folder = entityDir(store, entity);
      const record = (await loadShard(path.join(folder, `${shardOf(id)}.json`))).get(id);
      return record && structuredClone(record);
    },

    async *stream(store, entity) {
      const folder = entityDir(store, entity);
      for (const shard of await listShards(folder)) {
        // Read straight from disk: going through the cache would push out the shards writers use.
        const records = [...(await readShardFile(path.join(folder, `${shard}.json`))).values()];
        records.sort((a, b) => compareIds(a.id, b.id));
        yield* records;
      }
    },

    async count(store, entity) {
      const folder = entityDir(store, entity);
      return serialised(folder, async () => {
        const shards = await listShards(folder);
        const index = await readCounts(folder);
        const fresh: CountsIndex = {};
        let total = 0;
        let stale = Object.keys(index).length !== shards.length;
        for (const shard of shards) {
          const stamp = await statStamp(path.join(folder, `${shard}.json`));
          const known = index[shard];
          // The index is trusted only for the exact file version it describes (e.g. not after a crash mid-batch).
          const count =
            known && sameStamp(known, stamp)
              ? known.count
              : (await readShardFile(path.join(folder, `${shard}.json`))).size;
          if (!(known && sameStamp(known, stamp))) stale = true;
          if (stamp) fresh[shard] = { ...stamp, count };
          total += count;
        }
        if (stale && shards.length > 0)
          await writeAtomically(path.join(folder, COUNTS_FILE), JSON.stringify(fresh));
        return total;
      });
    },

    async close() {
      closed = true;
      await Promise.all([...queues.values()]);
      cache.clear();
    },
  };
}

async function listShards(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => /^(\d+|h-[0-9a-f]{2})\.json$/.test(n))
    .map((n) => n.slice(0, -'.json'.length))
    .sort(compareShards);
}
