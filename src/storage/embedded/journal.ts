import type { Stats } from 'node:fs';
import { constants, fdatasyncSync, fstatSync, statSync, writeSync } from 'node:fs';
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { WarnLogger } from '../crypto.js';
import type { FileLock } from './lock.js';
import {
  commitTemp,
  isTempOf,
  syncDir,
  notADatabase,
  parseSnapshot,
  readJsonFile,
  writeFileDurably,
  writeTemp,
  type Snapshot,
} from './snapshot.js';
import { readLines, watchDir, type ChangeLine } from './tail.js';

/** A value as the stores use it and as it is written (secrets encrypted); the same object when alike. */
export interface Entry {
  value: unknown;
  stored: unknown;
  /** `[key, stored]` as a snapshot holds it, kept so that the next compaction need not serialise it again. */
  json?: string;
}

/**
 * One collection's entries, and optionally an index from one field of each value to the keys holding
 * it, kept by every change whatever its origin (this process, another's journal lines, a reload).
 */
export class Table extends Map<string, Entry> {
  private readonly index = new Map<string, Set<string>>();
  private readonly indexOf: ((value: unknown) => string | undefined) | undefined;

  constructor(indexOf?: (value: unknown) => string | undefined, entries?: Iterable<[string, Entry]>) {
    // Filled below: Map's constructor would call set() before the fields exist.
    super();
    this.indexOf = indexOf;
    for (const [key, entry] of entries ?? []) this.set(key, entry);
  }

  override set(key: string, entry: Entry): this {
    if (this.indexOf) {
      const before = super.get(key);
      const field = this.indexOf(entry.value);
      // Unchanged field: the key keeps its place.
      if (before && this.indexOf(before.value) === field) return super.set(key, entry);
      this.unindex(key);
      if (field !== undefined) {
        let keys = this.index.get(field);
        if (!keys) this.index.set(field, (keys = new Set()));
        keys.add(key);
      }
    }
    return super.set(key, entry);
  }

  override delete(key: string): boolean {
    if (this.indexOf) this.unindex(key);
    return super.delete(key);
  }

  override clear(): void {
    this.index.clear();
    super.clear();
  }

  /** The entries whose indexed field is `field`. */
  withField(field: string): Entry[] {
    if (!this.indexOf) throw new Error('This collection has no index.');
    return [...(this.index.get(field) ?? [])].map((key) => super.get(key)!);
  }

  private unindex(key: string): void {
    const before = super.get(key);
    const field = before && this.indexOf!(before.value);
    if (field === undefined) return;
    const keys = this.index.get(field);
    keys?.delete(key);
    if (keys?.size === 0) this.index.delete(field);
  }
}

type State = Map<string, Table>;

/**
 * Turns a stored value into the one kept in memory (decrypts secrets); throws on damage. `previous` is
 * the entry the key had, so that what did not change need not be decoded again.
 */
export type Decode = (
  collection: string,
  key: string,
  stored: unknown,
  file: string,
  previous: Entry | undefined,
) => unknown;

export interface JournalOptions {
  dir: string;
  /** Files: `<name>.json` (snapshot), `<name>.<generation>.journal`. */
  name: string;
  lock: FileLock;
  decode?: Decode;
  /** Per collection, the field of a (decoded) value that Table.withField finds entries by. */
  indexes?: Record<string, (value: unknown) => string | undefined>;
  /** Written into a snapshot this process creates. */
  keyId?: string;
  /** Checks a snapshot before anything in it is decoded (the encryption key). */
  verify?: (snapshot: Snapshot, file: string) => void;
  /**
   * When the snapshot file exists in another format: returns its content in this one (an import).
   * Runs under the lock; the file is then replaced by the new snapshot.
   */
  upgrade?: (data: unknown, file: string) => Promise<Snapshot['collections']>;
  /** The content of a snapshot created because none exists (an import into this journal). */
  initial?: Snapshot['collections'];
  /** Follow other processes' appends in the background (for their change notices). */
  follow?: boolean;
  /** Reads may serve memory this long after the last catch-up, unless a file change was seen. */
  freshMs?: number;
  /** Compact once the journal is larger than this and than the snapshot. */
  compactBytes?: number;
  /** Fold the journal into the snapshot on close when this process wrote (default true). */
  compactOnClose?: boolean;
  logger?: WarnLogger;
}

export interface JournalStats {
  /** Group commits that wrote something. */
  batches: number;
  /** `write` calls on the journal. */
  writes: number;
  /** fsyncs of the journal. */
  syncs: number;
  compactions: number;
  /** How long the last compaction held the lock (its snapshot is written before, without it). */
  lastCompactionMs: number;
  /** Full reloads (another process compacted and the new generation could not simply be followed). */
  reloads: number;
  /** Another process's compactions followed by reading on in the new journal (no reload). */
  follows: number;
}

/** The changes of one operation: applied to memory at once, written with its batch, undone if it throws. */
export class Transaction {
  readonly lines: string[] = [];
  /** Whether the batch must be fsync'd before it is acknowledged (false for notices only). */
  durable = false;
  private readonly undo: (() => void)[] = [];

  constructor(private readonly table: (collection: string) => Table) {}

  put(collection: string, key: string, value: unknown, stored: unknown = value): void {
    const map = this.table(collection);
    const before = map.get(key);
    map.set(key, { value, stored });
    this.undo.push(() => (before ? map.set(key, before) : map.delete(key)));
    this.lines.push(JSON.stringify({ c: collection, k: key, v: stored }));
    this.durable = true;
  }

  delete(collection: string, key: string): boolean {
    const map = this.table(collection);
    const before = map.get(key);
    if (!before) return false;
    map.delete(key);
    this.undo.push(() => map.set(key, before));
    this.lines.push(JSON.stringify({ c: collection, k: key, d: 1 }));
    this.durable = true;
    return true;
  }

  notice(topic: string): void {
    this.lines.push(JSON.stringify({ n: topic }));
  }

  rollback(): void {
    for (const undo of this.undo.splice(0).reverse()) undo();
  }
}

interface Pending {
  op: (tx: Transaction) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The first bytes of a file (by name or open handle) as text, and its stats. */
async function readHead(target: string | FileHandle, bytes: number): Promise<{ text: string; stats: Stats }> {
  const handle = typeof target === 'string' ? await open(target, 'r') : target;
  try {
    const stats = await handle.stat();
    const buffer = Buffer.alloc(Math.min(bytes, stats.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), stats };
  } finally {
    if (typeof target === 'string') await handle.close();
  }
}

/** fsyncs are done in place while they take less than this on average (see append). */
const SYNC_IN_PLACE_MS = 2;

/** Longest a writer keeps the lock for batch after batch before letting other processes in. */
const HOLD_MS = 50;

const sameFile = (a: Stats, b: Stats) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * One append-only journal over a snapshot, shared by any number of processes on one data dir.
 *
 * Memory holds the decoded state. A change is one JSON line; changes that arrive while a batch is being
 * written go into the next batch (group commit: one write and one fsync per batch). A batch runs under the
 * inter-process lock: catch up on what other processes appended, run the operations against that state
 * (so checks such as duplicate keys see every process's writes), append, fsync, acknowledge.
 *
 * When the journal outgrows the snapshot, the state is written as a new snapshot that names a new
 * journal generation (holding only the lines appended while the snapshot was written); the old journal
 * is deleted. The snapshot file is the commit point: a process that sees it change reads on in the new
 * journal when it had read the old one, and reloads otherwise.
 */
export class Journal {
  readonly stats: JournalStats = {
    batches: 0,
    writes: 0,
    syncs: 0,
    compactions: 0,
    lastCompactionMs: 0,
    reloads: 0,
    follows: 0,
  };
  private state: State = new Map();
  /** Moving average of fsync times. */
  private syncMs = 0;
  private generation = 0;
  private handle: FileHandle | undefined;
  /** Bytes of the journal applied to memory; under the lock, its end. */
  private offset = 0;
  private snapshotStats: Stats | undefined;
  private keyId: string | undefined;
  private readonly snapshotFile: string;
  private readonly ownJournal: RegExp;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** A batch holds the journal: lock-free catch-ups wait for it. */
  private writing = false;
  private catching: Promise<void> | undefined;
  private lastCatchUp = 0;
  private changed = false;
  private closed = false;
  /** Whether this process appended changes (a read-only process leaves the files as they are). */
  private wrote = false;
  private readonly noticeListeners = new Set<(topic: string) => void>();
  private stopWatching: () => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A compaction under way: a snapshot of generation+1 holding the state at `offset` of `generation`. */
  private compaction:
    { generation: number; offset: number; temp?: string; written: Promise<void> } | undefined;

  private constructor(private readonly options: JournalOptions) {
    this.snapshotFile = path.join(options.dir, `${options.name}.json`);
    this.ownJournal = new RegExp(`^${options.name}\\.(\\d+)\\.journal$`);
    this.keyId = options.keyId;
  }

  static async open(options: JournalOptions): Promise<Journal> {
    const journal = new Journal(options);
    await options.lock.run(() => journal.load(true));
    journal.follow();
    return journal;
  }

  /** The entries of one collection, caught up as of the last `fresh()` or batch. Do not change them. */
  table(collection: string): Table {
    let map = this.state.get(collection);
    if (!map) {
      map = this.newTable(collection);
      this.state.set(collection, map);
    }
    return map;
  }

  /** Notices appended by other processes. */
  onNotice(listener: (topic: string) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /**
   * Brings memory up to date with other processes, at most every `freshMs` unless a change was seen.
   * While this process writes a batch, memory is at least as fresh as that batch's catch-up.
   */
  async fresh(): Promise<void> {
    if (this.catching) return this.catching;
    if (this.closed || this.writing) return;
    if (!this.changed && Date.now() - this.lastCatchUp < (this.options.freshMs ?? 200)) return;
    this.catching = this.catchUp(false).finally(() => (this.catching = undefined));
    return this.catching;
  }

  /**
   * Runs `op` against the caught-up state under the lock and resolves with its result once its batch is
   * on disk. `op` must be synchronous; if it throws, its own changes are undone and the others in the
   * batch go ahead.
   */
  commit<T>(op: (tx: Transaction) => T): Promise<T> {
    // Checked on entry, so operations queued before close() still complete.
    if (this.closed) return Promise.reject(new Error('Storage is closed.'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Waits for queued batches, then releases files and watchers; later commits reject. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    if (this.wrote && this.options.compactOnClose !== false && this.handle) {
      await this.compactOnClose().catch((error: unknown) =>
        this.options.logger?.warn({ err: error, journal: this.options.name }, 'Compaction failed.'),
      );
    }
    // A snapshot still being written is dropped; the next process to write starts another.
    const compaction = this.compaction;
    this.compaction = undefined;
    await compaction?.written;
    if (compaction?.temp) await unlink(compaction.temp).catch(() => undefined);
    this.stopWatching();
    clearInterval(this.timer);
    await this.catching?.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }

  /**
   * Replaces every entry's stored form (a new encryption key) in a snapshot of a new generation with an
   * empty journal, under the lock. That journal does not say where it continues the old one, so other
   * processes reload, and `verify` stops one that still holds the old key id from writing.
   */
  async rewrite(
    keyId: string,
    restore: (collection: string, key: string, entry: Entry) => unknown,
  ): Promise<void> {
    if (this.closed) throw new Error('Storage is closed.');
    while (this.flushing) await this.flushing;
    // A snapshot being written holds the old stored forms.
    const compaction = this.compaction;
    this.compaction = undefined;
    await compaction?.written;
    if (compaction?.temp) await unlink(compaction.temp).catch(() => undefined);
    this.writing = true;
    try {
      await this.catching?.catch(() => undefined);
      await this.options.lock.run(async () => {
        await this.catchUp(true);
        const state: State = new Map();
        for (const [collection, map] of this.state) {
          const entries = [...map].map(([key, entry]): [string, Entry] => [
            key,
            { value: entry.value, stored: restore(collection, key, entry) },
          ]);
          state.set(collection, this.newTable(collection, entries));
        }
        const next = this.generation + 1;
        const previousKeyId = this.keyId;
        this.keyId = keyId;
        try {
          const text = await this.snapshotText(
            next,
            [...state].map(([c, map]) => [c, [...map]]),
          );
          await this.installGeneration(await writeTemp(this.snapshotFile, text), Buffer.alloc(0));
        } catch (error) {
          this.keyId = previousKeyId;
          throw error;
        }
        this.state = state;
        this.wrote = true;
      });
    } finally {
      this.writing = false;
    }
  }

  /**
   * After a clean stop the snapshot alone holds what was written (a copy of `db.json` is a backup, the
   * next start replays nothing). Not when the journal is a small part of a large snapshot: rewriting
   * megabytes for a few lines, and making every other process reload them, costs more than replaying
   * those lines at the next start. Written like any compaction: the snapshot without the lock, the switch
   * under it.
   */
  private async compactOnClose(): Promise<void> {
    await this.catching?.catch(() => undefined);
    await this.compaction?.written;
    if (!this.compaction) {
      await this.catchUp(false);
      if (this.offset === 0 || this.offset * 4 < (this.snapshotStats?.size ?? 0)) return;
      this.startCompaction();
      await this.compaction!.written;
    }
    // An empty batch: catch up under the lock, then commit the snapshot.
    if (this.compaction?.temp) await this.flush([]);
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async flushAll(): Promise<void> {
    // Let every operation started in this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0 || (this.compaction?.temp && !this.closed)) {
      const held = await this.flush(this.pending.splice(0));
      // Held as long as it may: give a process waiting for the lock its turn.
      if (held && this.pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Takes the lock, catches up, and writes batch after batch while more arrive, for up to HOLD_MS: under
   * load one lock cycle and one catch-up serve many batches. Resolves true when it stopped at HOLD_MS.
   */
  private async flush(first: Pending[]): Promise<boolean> {
    this.writing = true;
    let batch = first;
    let full = false;
    try {
      await this.catching?.catch(() => undefined);
      await this.options.lock.run(async () => {
        await this.catchUp(true);
        const since = performance.now();
        for (;;) {
          await this.writeBatch(batch);
          batch = [];
          if (this.closed || this.pending.length === 0) break;
          if (performance.now() - since >= HOLD_MS) {
            full = true;
            break;
          }
          batch = this.pending.splice(0);
        }
      });
    } catch (error) {
      // A promise settles once: this reaches only the operations not yet answered.
      for (const pending of batch) pending.reject(error);
      // Nor is a written snapshot retried after such a failure (a later batch starts another).
      const temp = this.compaction?.temp;
      if (temp) {
        this.compaction = undefined;
        await unlink(temp).catch(() => undefined);
      }
    } finally {
      this.writing = false;
    }
    return full;
  }

  /** Under the lock, caught up: runs the operations, appends their lines, acknowledges them. */
  private async writeBatch(batch: Pending[]): Promise<void> {
    const done: { tx: Transaction; settle: () => void }[] = [];
    for (const pending of batch) {
      const tx = new Transaction((c) => this.table(c));
      try {
        const result = pending.op(tx);
        done.push({ tx, settle: () => pending.resolve(result) });
      } catch (error) {
        // Nothing of it is written: it fails alone, now.
        tx.rollback();
        pending.reject(error);
      }
    }
    const lines = done.flatMap(({ tx }) => tx.lines);
    if (lines.length > 0) {
      try {
        await this.append(
          lines,
          done.some(({ tx }) => tx.durable),
        );
      } catch (error) {
        for (const { tx } of done.reverse()) tx.rollback();
        throw error;
      }
    }
    // Acknowledged now: compaction below only reorganises what is already durable.
    for (const { settle } of done) settle();
    if (this.compaction?.temp) {
      await this.finishCompaction().catch((error: unknown) =>
        this.options.logger?.warn({ err: error, journal: this.options.name }, 'Compaction failed.'),
      );
    } else if (
      !this.compaction &&
      this.offset > Math.max(this.options.compactBytes ?? 1 << 20, this.snapshotStats?.size ?? 0)
    ) {
      this.startCompaction();
    }
  }

  /** Appends under the lock: one write and, for real changes, one fsync. */
  private async append(lines: string[], durable: boolean): Promise<void> {
    const handle = this.handle!;
    const buffer = Buffer.from(`${lines.join('\n')}\n`);
    try {
      let written = 0;
      while (written < buffer.length) {
        // Synchronous: a small append into the page cache takes microseconds, while each trip through
        // the thread pool waits a whole turn of a busy event loop, and batches wait for them in a row.
        written += writeSync(handle.fd, buffer, written, buffer.length - written);
        this.stats.writes++;
      }
      if (durable) {
        // On a fast disk the fsync is done in place: a trip through the thread pool would wait a
        // whole turn of a busy event loop (every request that arrived meanwhile) before the batch
        // is acknowledged. A slow disk must not block the loop, so it goes the other way.
        // Every 100th in place regardless: a time measured through the pool includes the wait for
        // the loop, so it alone would never show that the disk is fast again.
        const started = performance.now();
        if (this.syncMs < SYNC_IN_PLACE_MS || this.stats.syncs % 100 === 0) fdatasyncSync(handle.fd);
        else await handle.datasync();
        this.syncMs = 0.8 * this.syncMs + 0.2 * (performance.now() - started);
        this.stats.syncs++;
        this.wrote = true;
      }
    } catch (error) {
      // Take back whatever part was written so the file matches memory again (others who read it in
      // the meantime see the file shrink and reload).
      await handle.truncate(this.offset).catch(() => undefined);
      throw error;
    }
    this.offset += buffer.length;
    this.stats.batches++;
  }

  /** Applies what other processes appended; reloads when another process compacted. */
  private async catchUp(locked: boolean): Promise<void> {
    // Cleared first: a change seen while this runs calls for another catch-up.
    this.changed = false;
    // Synchronous stats, for the reason given in append.
    let snapshot: Stats | undefined;
    try {
      snapshot = statSync(this.snapshotFile);
    } catch {
      snapshot = undefined;
    }
    if (snapshot && this.snapshotStats && !sameFile(snapshot, this.snapshotStats)) {
      // The old journal no longer grows: read it to its end (its notices reach subscribers), then go on
      // in the new generation, or reload when that is not the one that continues it.
      await this.readAppended(true, true);
      if (await this.followCompaction(snapshot)) this.stats.follows++;
      else {
        await this.load(locked);
        this.stats.reloads++;
      }
    }
    // What was appended since (in the new generation, after a follow).
    const { size } = fstatSync(this.handle!.fd);
    if (size < this.offset) {
      // A failed write elsewhere was taken back after this process read it.
      await this.load(locked);
      this.stats.reloads++;
    } else if (size > this.offset) {
      const partial = await this.readAppended(true, true, size);
      if (partial && locked) {
        // Under the lock nobody is writing: a line without its newline was torn by a crash.
        await this.handle!.truncate(this.offset);
        await this.handle!.datasync();
      }
    }
    this.lastCatchUp = Date.now();
  }

  /**
   * After another process compacted: when the new snapshot is the next generation and its journal says it
   * continues this one at a point already read here, memory is already that snapshot plus the copied
   * lines read here; reading on past them in the new journal spares parsing the whole snapshot.
   */
  private async followCompaction(seen: Stats): Promise<boolean> {
    const next = this.generation + 1;
    // The generation is near the start of the snapshot (written first), so a few hundred bytes tell it.
    const head = await readHead(this.snapshotFile, 512).catch(() => undefined);
    const generation = Number(/"generation": (\d+),/.exec(head?.text ?? '')?.[1]);
    if (!head || generation !== next || head.stats.ino !== seen.ino) return false;
    const file = this.journalFile(next);
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDWR | constants.O_APPEND);
    } catch {
      return false;
    }
    try {
      const first = await readHead(handle, 128);
      const end = first.text.indexOf('\n');
      const from = end > 0 ? (JSON.parse(first.text.slice(0, end)) as { from?: unknown }).from : undefined;
      const continues =
        Array.isArray(from) &&
        from[0] === this.generation &&
        typeof from[1] === 'number' &&
        from[1] <= this.offset;
      const start = continues
        ? Buffer.byteLength(first.text.slice(0, end + 1)) + this.offset - (from[1] as number)
        : 0;
      if (!continues || first.stats.size < start) {
        await handle.close();
        return false;
      }
      const previous = this.handle;
      this.handle = handle;
      this.generation = next;
      this.offset = start;
      this.snapshotStats = head.stats;
      await previous?.close();
      return true;
    } catch {
      await handle.close();
      return false;
    }
  }

  /** Reads complete lines past `offset`; returns whether an incomplete line follows them. */
  private async readAppended(apply: boolean, advance: boolean, size?: number): Promise<boolean> {
    const handle = this.handle!;
    const end = size ?? (await handle.stat()).size;
    const file = this.journalFile(this.generation);
    const { lines, end: complete, partial } = await readLines(handle, this.offset, end, file);
    const topics: string[] = [];
    for (const line of lines) {
      if ('n' in line) topics.push(line.n);
      else if ('c' in line && apply) this.apply(line, file);
    }
    if (advance) this.offset = complete;
    for (const topic of topics) {
      for (const listener of this.noticeListeners) {
        try {
          listener(topic);
        } catch (error) {
          this.options.logger?.warn({ err: error, topic }, 'A change notice listener failed.');
        }
      }
    }
    return partial;
  }

  private apply(line: ChangeLine, file: string, state = this.state, previous = this.state): void {
    let map = state.get(line.c);
    if (!map) {
      map = this.newTable(line.c);
      state.set(line.c, map);
    }
    if ('d' in line) map.delete(line.k);
    else {
      const before = map.get(line.k) ?? previous.get(line.c)?.get(line.k);
      map.set(line.k, { value: this.decode(line.c, line.k, line.v, file, before), stored: line.v });
    }
  }

  private decode(collection: string, key: string, stored: unknown, file: string, previous?: Entry): unknown {
    return this.options.decode ? this.options.decode(collection, key, stored, file, previous) : stored;
  }

  private newTable(collection: string, entries?: Iterable<[string, Entry]>): Table {
    return new Table(this.options.indexes?.[collection], entries);
  }

  private journalFile(generation: number): string {
    return path.join(this.options.dir, `${this.options.name}.${generation}.journal`);
  }

  /**
   * Reads the snapshot and replays its journal into a new state. Under the lock it may also create the
   * files, import an older format, cut a torn last line and delete leftovers; without it, it only reads
   * (and retries if a compaction replaced the files while it read).
   */
  private async load(locked: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let read = await readJsonFile(this.snapshotFile);
      if (locked && (!read || (read.data as { version?: unknown } | null)?.version !== 2)) {
        let collections = this.options.initial ?? {};
        if (read) {
          if (!this.options.upgrade) throw notADatabase(this.snapshotFile);
          collections = await this.options.upgrade(read.data, this.snapshotFile);
        }
        await this.create(collections);
        read = await readJsonFile(this.snapshotFile);
      }
      if (!read) throw new Error(`${this.snapshotFile} is missing.`);
      const snapshot = parseSnapshot(read.data, this.snapshotFile, this.options.name);
      this.options.verify?.(snapshot, this.snapshotFile);
      const file = this.journalFile(snapshot.generation);
      let handle: FileHandle;
      try {
        // Only under the lock may a missing journal be created (a crash right after a compaction).
        const flags = constants.O_RDWR | constants.O_APPEND | (locked ? constants.O_CREAT : 0);
        handle = await open(file, flags, 0o600);
        // A journal just created must keep its name through a power loss, or acknowledged lines go too.
        if (locked) await syncDir(this.options.dir);
      } catch (error) {
        // Replaced by a compaction since the snapshot was read: read the new one.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !locked && attempt < 20) continue;
        throw error;
      }
      try {
        const state: State = new Map();
        for (const [collection, pairs] of Object.entries(snapshot.collections)) {
          state.set(
            collection,
            this.newTable(
              collection,
              pairs.map(([key, stored]): [string, Entry] => [
                key,
                {
                  value: this.decode(
                    collection,
                    key,
                    stored,
                    this.snapshotFile,
                    this.state.get(collection)?.get(key),
                  ),
                  stored,
                },
              ]),
            ),
          );
        }
        const { size } = await handle.stat();
        const { lines, end, partial } = await readLines(handle, 0, size, file);
        for (const line of lines) if ('c' in line) this.apply(line, file, state, this.state);
        if (partial && locked) {
          await handle.truncate(end);
          await handle.datasync();
        }
        const previous = this.handle;
        this.handle = handle;
        this.state = state;
        this.offset = end;
        this.generation = snapshot.generation;
        this.snapshotStats = read.stats;
        this.keyId = snapshot.keyId;
        await previous?.close();
      } catch (error) {
        await handle.close();
        throw error;
      }
      if (locked) await this.removeLeftovers();
      return;
    }
  }

  /** Writes a first snapshot (generation 1) and its empty journal. */
  private async create(collections: Snapshot['collections']): Promise<void> {
    for (const name of await readdir(this.options.dir)) {
      if (!this.ownJournal.test(name)) continue;
      const file = path.join(this.options.dir, name);
      if ((await stat(file)).size > 0) {
        // Never start empty over a journal whose snapshot went missing: that would silently lose data.
        throw new Error(`${file} exists but ${this.snapshotFile} does not; restore it from a backup.`);
      }
    }
    const snapshot: Snapshot = {
      version: 2,
      journal: this.options.name,
      generation: 1,
      ...(this.keyId === undefined ? {} : { keyId: this.keyId }),
      collections,
    };
    await writeFileDurably(this.snapshotFile, `${JSON.stringify(snapshot, null, 2)}\n`);
  }

  /**
   * Compaction, in two steps so that the lock is not held while megabytes are written. Here, under the
   * lock with memory equal to the journal up to `offset`, the entries are captured (entries are replaced,
   * never changed, so copying the references is enough); they are then serialised a slice at a time and
   * written to a temp file in the background while batches go on.
   */
  private startCompaction(): void {
    const generation = this.generation + 1;
    const captured = [...this.state].map(([collection, map]): [string, [string, Entry][]] => [
      collection,
      [...map],
    ]);
    const compaction: NonNullable<Journal['compaction']> = {
      generation: this.generation,
      offset: this.offset,
      written: Promise.resolve(),
    };
    compaction.written = this.snapshotText(generation, captured)
      .then((text) => writeTemp(this.snapshotFile, text))
      .then(
        (temp) => {
          compaction.temp = temp;
          // A batch (possibly empty) finishes it under the lock.
          if (this.compaction === compaction && !this.closed) this.schedule();
        },
        (error: unknown) => {
          if (this.compaction === compaction) this.compaction = undefined;
          this.options.logger?.warn({ err: error, journal: this.options.name }, 'Compaction failed.');
        },
      );
    this.compaction = compaction;
  }

  /**
   * Under the lock, caught up: the lines appended since the snapshot was taken start the new generation's
   * journal, created before the snapshot that names it (so a reader who sees the snapshot finds its
   * journal); then the snapshot is renamed into place, the commit point, and the old journal deleted.
   */
  private async finishCompaction(): Promise<void> {
    const started = performance.now();
    const compaction = this.compaction!;
    const temp = compaction.temp!;
    this.compaction = undefined;
    if (compaction.generation !== this.generation || compaction.offset > this.offset) {
      // Another process compacted meanwhile: this snapshot is out of date.
      await unlink(temp).catch(() => undefined);
      return;
    }
    // The new journal starts by saying which point of this one the snapshot stops at, then the lines
    // after it: a process that has read this journal reads on there (see followCompaction).
    const header = Buffer.from(`${JSON.stringify({ from: [this.generation, compaction.offset] })}\n`);
    const tail = Buffer.alloc(this.offset - compaction.offset);
    for (let read = 0; read < tail.length;) {
      const { bytesRead } = await this.handle!.read(tail, read, tail.length - read, compaction.offset + read);
      if (bytesRead === 0) throw new Error(`${this.journalFile(this.generation)} ended early.`);
      read += bytesRead;
    }
    await this.installGeneration(temp, Buffer.concat([header, tail]));
    this.stats.compactions++;
    this.stats.lastCompactionMs = Math.round(performance.now() - started);
  }

  /**
   * Puts the next generation in place: its journal (holding `content`) durable first, then the
   * snapshot `temp` renamed over the old one, the commit point; the old journal is then deleted.
   */
  private async installGeneration(temp: string, content: Buffer): Promise<void> {
    const next = this.generation + 1;
    const nextFile = this.journalFile(next);
    const handle = await open(nextFile, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
    let stats: Stats;
    try {
      await handle.truncate(0);
      if (content.length > 0) await handle.write(content, 0, content.length, null);
      await handle.datasync();
      // The new journal's name is durable before the snapshot that names it.
      await syncDir(this.options.dir);
      stats = await commitTemp(temp, this.snapshotFile);
    } catch (error) {
      await handle.close();
      await unlink(nextFile).catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const previous = this.handle;
    const previousFile = this.journalFile(this.generation);
    this.handle = handle;
    this.generation = next;
    this.offset = content.length;
    this.snapshotStats = stats;
    await previous?.close();
    await unlink(previousFile).catch(() => undefined);
  }

  /**
   * Captured entries as a Snapshot's JSON, reusing each entry's cached JSON, and giving the event loop a
   * turn every few hundred entries so that requests are not held up. Indented like the single-file format
   * was, so that `db.json` stays readable by people.
   */
  private async snapshotText(generation: number, captured: [string, [string, Entry][]][]): Promise<string> {
    const head: Omit<Snapshot, 'collections'> = {
      version: 2,
      journal: this.options.name,
      generation,
      ...(this.keyId === undefined ? {} : { keyId: this.keyId }),
    };
    const collections: string[] = [];
    let count = 0;
    for (const [collection, entries] of captured) {
      const pairs: string[] = [];
      for (const [key, entry] of entries) {
        entry.json ??= JSON.stringify([key, entry.stored], null, 2).replace(/\n/g, '\n      ');
        pairs.push(entry.json);
        if (++count % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const list = pairs.length === 0 ? '[]' : `[\n      ${pairs.join(',\n      ')}\n    ]`;
      collections.push(`    ${JSON.stringify(collection)}: ${list}`);
    }
    const body = collections.length === 0 ? '{}' : `{\n${collections.join(',\n')}\n  }`;
    return `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "collections": ${body}\n}\n`;
  }

  /**
   * Journals of other generations (safe: we hold the lock), and temp files of killed writers: those
   * older than an hour, as a live process may be writing a snapshot without the lock.
   */
  private async removeLeftovers(): Promise<void> {
    for (const name of await readdir(this.options.dir)) {
      const file = path.join(this.options.dir, name);
      const generation = this.ownJournal.exec(name)?.[1];
      const stale =
        (generation !== undefined && Number(generation) !== this.generation) ||
        (isTempOf(name, this.snapshotFile) &&
          ((await stat(file).catch(() => undefined))?.mtimeMs ?? Infinity) < Date.now() - 3_600_000);
      if (stale) await unlink(file).catch(() => undefined);
    }
  }

  /**
   * A change in the folder (inotify) makes the next read catch up. With `follow`, it also catches up at
   * once (so notices arrive), and at least once a second in case the watch misses something.
   */
  private follow(): void {
    const poll = () =>
      void this.fresh().catch((error: unknown) =>
        this.options.logger?.warn({ err: error, journal: this.options.name }, 'Could not read the journal.'),
      );
    this.stopWatching = watchDir(this.options.dir, `${this.options.name}.`, () => {
      this.changed = true;
      if (this.options.follow) poll();
    });
    if (this.options.follow) this.timer = setInterval(poll, 1000).unref();
  }
}
