import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  compareRecordIds as compareIds,
  numericRecordId as numericId,
  type LocalRecord,
  type RecordStore,
  type UpsertOptions,
  type UpsertOutcome,
} from './records.js';
import { SerialQueue } from './serial-queue.js';

/**
 * A RecordStore on plain JSON files: `dir/<store folder>/<entity>/<shard>.json`, each shard holding
 * up to 1000 consecutive numeric ids (`12.json` = ids 12000–12999), so a sync page touches one or two
 * files and memory stays bounded by a few shards whatever the catalog size. Non-numeric ids (a stock
 * source item's `source/sku`) go to range shards (`r-7.json`): each holds the ids from its lower bound
 * up to the next shard's, listed in `_ranges.json`, and splits in pieces of 1000 when it passes 2000.
 * A scan in id order then touches one or two files per page, as with numeric ids; hash buckets would
 * rewrite most of them on every page. Writes go through a temp file and a rename, so a reader (or a
 * crash) never sees half a shard; a split writes its new shards, then the range list, then removes
 * the old shard. One process writes; others may read at the same time.
 */

export const SHARD_SIZE = 1000;
/** A range shard splits when it holds more than this. */
const SPLIT_AT = 2 * SHARD_SIZE;
const COUNTS_FILE = '_counts.json';
const RANGES_FILE = '_ranges.json';
const ENTITY_NAME = /^[a-z][a-z0-9_-]{0,63}$/i;

export interface FileRecordStoreOptions {
  /** Shards kept parsed in memory (default 4). */
  cacheShards?: number;
}

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

/** The shard a numeric id lives in (`<n>`); undefined for other ids, which live in range shards. */
export function shardOf(id: string): string | undefined {
  const n = numericId(id);
  return n === undefined ? undefined : String(Math.floor(n / SHARD_SIZE));
}

/** Range shards by lower bound (the first's is ''), in id order; `next` numbers the next new shard. */
interface Ranges {
  next: number;
  shards: { from: string; name: string }[];
}

const initialRanges = (): Ranges => ({ next: 1, shards: [{ from: '', name: 'r-0' }] });

/** The range shard holding `id`: the last whose lower bound is at or below it. */
function rangeOf(ranges: Ranges, id: string): { from: string; name: string } {
  let lo = 0;
  let hi = ranges.shards.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((ranges.shards[mid] as { from: string }).from <= id) lo = mid;
    else hi = mid - 1;
  }
  return ranges.shards[lo] as { from: string; name: string };
}

/** Numeric shards in order (range shards are ordered by the range list, not by name). */
function compareShards(a: string, b: string): number {
  return Number(a) - Number(b);
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
/** Per shard file version: its records and the live ones among them (an entry without `live` predates tombstones). */
type CountsIndex = Record<string, Stamp & { count: number; live?: number }>;

function liveCount(shard: Shard): number {
  let live = 0;
  for (const r of shard.values()) if (r.deletedAt === undefined) live++;
  return live;
}

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
  return (await readShardIfPresent(file)) ?? new Map();
}

/** undefined when there is no such file. */
async function readShardIfPresent(file: string): Promise<Shard | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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
  /** Writes (and counts, which may fix the index) for one (store, entity) run one at a time. */
  const writes = new SerialQueue();
  const rangesCache = new Map<string, { stamp: Stamp | undefined; ranges: Ranges }>();
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

  async function readRanges(folder: string): Promise<Ranges> {
    const file = path.join(folder, RANGES_FILE);
    const stamp = await statStamp(file);
    const cached = rangesCache.get(folder);
    if (cached && sameStamp(cached.stamp, stamp)) return cached.ranges;
    if (!stamp) return initialRanges();
    const ranges = JSON.parse(await readFile(file, 'utf8')) as Ranges;
    rangesCache.set(folder, { stamp, ranges });
    return ranges;
  }

  /** Numeric shards in order, then range shards in id order: the order records stream in. */
  async function listShards(folder: string): Promise<string[]> {
    const numeric = (await listNumericShards(folder)).sort(compareShards);
    // Without a range list (nothing but numbers yet) this is the first range shard, if any.
    const names = (await readRanges(folder)).shards.map((r) => r.name);
    const present: string[] = [];
    for (const name of names) if (await statStamp(path.join(folder, `${name}.json`))) present.push(name);
    return [...numeric, ...present];
  }

  /** The batch applied to a copy of the shard; undefined when nothing changed. */
  async function applyToShard(
    file: string,
    batch: { record: LocalRecord; at: number }[],
    outcomes: UpsertOutcome[],
    options: UpsertOptions,
  ): Promise<Shard | undefined> {
    const current = await loadShard(file);
    // Changes go to a copy, so a failed write leaves the cache as the disk is.
    const next = new Map(current);
    let changed = false;
    for (const { record, at } of batch) {
      const stored = next.get(record.id);
      if (
        (stored?.hash === record.hash && stored.deletedAt === undefined) ||
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
    return changed ? next : undefined;
  }

  async function writeShard(file: string, shard: Shard): Promise<Stamp & { count: number; live: number }> {
    await writeAtomically(file, JSON.stringify(Object.fromEntries(shard)));
    const stamp = await statStamp(file);
    cache.set(file, shard, stamp);
    if (!stamp) throw new Error(`${file} vanished right after it was written.`);
    return { ...stamp, count: shard.size, live: liveCount(shard) };
  }

  /**
   * Every record in id order, from the first after `after` (by `compareIds`) when given: numeric
   * shards wholly before it are not read. A split (by a writer in another process) may remove a
   * listed range shard before it is read: the walk then starts again on the new list, past the last
   * id already given.
   */
  async function* walk(folder: string, after?: string): AsyncGenerator<LocalRecord> {
    const afterNumber = after === undefined ? undefined : numericId(after);
    // Read straight from disk: going through the cache would push out the shards writers use.
    const sorted = (shard: Shard) => [...shard.values()].sort((a, b) => compareIds(a.id, b.id));
    const isAfter = (id: string) => after === undefined || compareIds(id, after) > 0;
    if (after === undefined || afterNumber !== undefined) {
      for (const name of (await listNumericShards(folder)).sort(compareShards)) {
        if (afterNumber !== undefined && (Number(name) + 1) * SHARD_SIZE <= afterNumber) continue;
        for (const record of sorted(await readShardFile(path.join(folder, `${name}.json`))))
          if (isAfter(record.id)) yield record;
      }
    }
    let last: string | undefined;
    walk: for (let attempt = 0; ; attempt++) {
      const listed = (await statStamp(path.join(folder, RANGES_FILE))) !== undefined;
      const shards = (await readRanges(folder)).shards;
      for (const [i, { name }] of shards.entries()) {
        // Every id of this shard is below the next shard's lower bound: nothing after `after` here.
        const nextFrom = shards[i + 1]?.from;
        if (after !== undefined && afterNumber === undefined && nextFrom !== undefined && nextFrom <= after)
          continue;
        const shard = await readShardIfPresent(path.join(folder, `${name}.json`));
        if (!shard && listed && attempt < 5) {
          rangesCache.delete(folder);
          continue walk;
        }
        for (const record of sorted(shard ?? new Map())) {
          if (last !== undefined && record.id <= last) continue;
          last = record.id;
          if (isAfter(record.id)) yield record;
        }
      }
      return;
    }
  }

  const api: RecordStore = {
    async upsert(store, entity, records, options = {}) {
      const folder = entityDir(store, entity);
      records.forEach(validateRecord);
      return writes.run(folder, async () => {
        const ranges = records.some((r) => numericId(r.id) === undefined)
          ? structuredClone(await readRanges(folder))
          : undefined;
        const byShard = new Map<string, { record: LocalRecord; at: number }[]>();
        records.forEach((record, at) => {
          const shard = shardOf(record.id) ?? rangeOf(ranges as Ranges, record.id).name;
          const group = byShard.get(shard);
          if (group) group.push({ record, at });
          else byShard.set(shard, [{ record, at }]);
        });
        const outcomes: UpsertOutcome[] = new Array<UpsertOutcome>(records.length);
        await mkdir(folder, { recursive: true });
        const counts: CountsIndex = {};
        const replaced: string[] = [];
        for (const [shard, batch] of byShard) {
          const file = path.join(folder, `${shard}.json`);
          const next = await applyToShard(file, batch, outcomes, options);
          if (!next) continue;
          if (!ranges || !shard.startsWith('r-') || next.size <= SPLIT_AT) {
            counts[shard] = await writeShard(file, next);
            continue;
          }
          // Split in id order: new files first; the range list (written below) switches to them.
          const ids = [...next.keys()].sort(compareIds);
          const at = ranges.shards.findIndex((r) => r.name === shard);
          const pieces: { from: string; name: string }[] = [];
          for (let i = 0; i < ids.length; i += SHARD_SIZE) {
            const part: Shard = new Map();
            for (const id of ids.slice(i, i + SHARD_SIZE)) part.set(id, next.get(id) as LocalRecord);
            const name = `r-${ranges.next++}`;
            counts[name] = await writeShard(path.join(folder, `${name}.json`), part);
            pieces.push({
              from: i === 0 ? (ranges.shards[at] as { from: string }).from : (ids[i] as string),
              name,
            });
          }
          ranges.shards.splice(at, 1, ...pieces);
          replaced.push(shard);
        }
        if (ranges && (replaced.length > 0 || !(await statStamp(path.join(folder, RANGES_FILE))))) {
          await writeAtomically(path.join(folder, RANGES_FILE), JSON.stringify(ranges));
          rangesCache.delete(folder);
          for (const shard of replaced) await rm(path.join(folder, `${shard}.json`), { force: true });
        }
        if (Object.keys(counts).length > 0 || replaced.length > 0) {
          const index = { ...(await readCounts(folder)), ...counts };
          for (const shard of replaced) delete index[shard];
          await writeAtomically(path.join(folder, COUNTS_FILE), JSON.stringify(index));
        }
        return outcomes;
      });
    },

    async get(store, entity, id) {
      const folder = entityDir(store, entity);
      const numeric = shardOf(id);
      if (numeric !== undefined) {
        const record = (await loadShard(path.join(folder, `${numeric}.json`))).get(id);
        return record && structuredClone(record);
      }
      // A split in another process may remove the shard between reading the list and the shard: look again.
      for (let attempt = 0; ; attempt++) {
        const file = path.join(folder, `${rangeOf(await readRanges(folder), id).name}.json`);
        if (attempt === 0 && !(await statStamp(file))) {
          rangesCache.delete(folder);
          continue;
        }
        const record = (await loadShard(file)).get(id);
        return record && structuredClone(record);
      }
    },

    async *stream(store, entity, options = {}) {
      const folder = entityDir(store, entity);
      for await (const record of walk(folder))
        if (options.includeDeleted || record.deletedAt === undefined) yield record;
    },

    async *liveIds(store, entity, after) {
      const folder = entityDir(store, entity);
      for await (const record of walk(folder, after)) if (record.deletedAt === undefined) yield record.id;
    },

    async markDeleted(store, entity, ids, at) {
      const folder = entityDir(store, entity);
      if (ids.length === 0) return 0;
      return writes.run(folder, async () => {
        const ranges = ids.some((id) => numericId(id) === undefined) ? await readRanges(folder) : undefined;
        const byShard = new Map<string, string[]>();
        for (const id of ids) {
          const shard = shardOf(id) ?? rangeOf(ranges as Ranges, id).name;
          const group = byShard.get(shard);
          if (group) group.push(id);
          else byShard.set(shard, [id]);
        }
        const counts: CountsIndex = {};
        let changed = 0;
        for (const [shard, group] of byShard) {
          const file = path.join(folder, `${shard}.json`);
          // Changes go to a copy, so a failed write leaves the cache as the disk is.
          const next = new Map(await loadShard(file));
          let marked = 0;
          for (const id of group) {
            const stored = next.get(id);
            if (!stored || stored.deletedAt !== undefined) continue;
            next.set(id, { ...stored, deletedAt: at });
            marked++;
          }
          if (marked === 0) continue;
          counts[shard] = await writeShard(file, next);
          changed += marked;
        }
        if (changed > 0) {
          const index = { ...(await readCounts(folder)), ...counts };
          await writeAtomically(path.join(folder, COUNTS_FILE), JSON.stringify(index));
        }
        return changed;
      });
    },

    async count(store, entity) {
      const folder = entityDir(store, entity);
      return writes.run(folder, async () => {
        const shards = await listShards(folder);
        const index = await readCounts(folder);
        const fresh: CountsIndex = {};
        let total = 0;
        let stale = Object.keys(index).length !== shards.length;
        for (const shard of shards) {
          const stamp = await statStamp(path.join(folder, `${shard}.json`));
          const known = index[shard];
          // The index is trusted only for the exact file version it describes (e.g. not after a crash
          // mid-batch), and only when it counts live records (written since tombstones exist).
          let entry = known && sameStamp(known, stamp) && known.live !== undefined ? known : undefined;
          if (!entry) {
            stale = true;
            const records = await readShardFile(path.join(folder, `${shard}.json`));
            entry = stamp && { ...stamp, count: records.size, live: liveCount(records) };
          }
          if (entry) fresh[shard] = entry;
          total += entry?.live ?? 0;
        }
        if (stale && shards.length > 0)
          await writeAtomically(path.join(folder, COUNTS_FILE), JSON.stringify(fresh));
        return total;
      });
    },

    async deleteStore(store) {
      const folder = path.dirname(entityDir(store, 'x'));
      let entities: string[];
      try {
        entities = await readdir(folder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw error;
      }
      let removed = 0;
      for (const entity of entities.filter((e) => ENTITY_NAME.test(e))) {
        removed += await api.count(store, entity);
        // After any write of this entity in flight.
        await writes.idle(entityDir(store, entity));
      }
      cache.clear();
      rangesCache.clear();
      await rm(folder, { recursive: true, force: true });
      return removed;
    },

    async close() {
      closed = true;
      await writes.drained();
      cache.clear();
      rangesCache.clear();
    },
  };
  return api;
}

async function listNumericShards(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((n) => /^\d+\.json$/.test(n)).map((n) => n.slice(0, -'.json'.length));
}
