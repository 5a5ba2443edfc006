import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createFileRecordStore, shardOf, storeFolderName } from '../../src/storage/file-record-store.js';
import { hashRecordData, type LocalRecord, type RecordStore } from '../../src/storage/records.js';

let dir: string;
let store: RecordStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'records-'));
  store = createFileRecordStore(dir);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const KEY = 'abcdefghijklmnopqrstuvwxyz012345';

function record(
  id: number | string,
  data: Record<string, unknown> = { id, name: `Product ${id}` },
): LocalRecord {
  return { id: String(id), updatedAt: '2026-01-01 00:00:00', hash: hashRecordData(data), data };
}

async function collect<T = LocalRecord>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('hashRecordData', () => {
  it('ignores key order at every level and sees every value change', () => {
    expect(hashRecordData({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      hashRecordData({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
    expect(hashRecordData({ a: 1 })).not.toBe(hashRecordData({ a: 2 }));
    expect(hashRecordData({ a: [1, 2] })).not.toBe(hashRecordData({ a: [2, 1] }));
    expect(hashRecordData({ a: 1, b: undefined })).toBe(hashRecordData({ a: 1 }));
    expect(hashRecordData({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hashes as stored ones, so records already synced do not read as changed', () => {
    const edgeCases = {
      z: 'last "quoted" \u2028 é',
      a: [1, undefined, null, { y: -0, x: 1e21, w: 0.1 }, [], {}],
      m: { when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), fn: () => 1, none: undefined, nil: null, t: true },
      'ü key': 'v',
      '10': 'numeric key',
      '2': 'numeric key sorted as text',
    };
    expect(hashRecordData(edgeCases)).toBe(
      'c39582524525bb45b225576f7ab2d839d542c5256a9508f096a6e8ffed58cbc2',
    );
    const product = {
      id: 7,
      sku: 'SKU-7',
      price: 9.99,
      custom_attributes: [{ attribute_code: 'url_key', value: 'x' }],
      extension_attributes: { website_ids: [1] },
    };
    expect(hashRecordData(product)).toBe('aebd5279d73e6285ec800c70707f88dc3eec9e84b16a5197a70c297294080f49');
  });
});

describe('file record store', () => {
  it('reports created, updated and unchanged, in input order', async () => {
    expect(await store.upsert(KEY, 'products', [record(1), record(2)])).toEqual(['created', 'created']);
    const changed = record(2, { id: 2, name: 'Renamed' });
    expect(await store.upsert(KEY, 'products', [record(3), changed, record(1)])).toEqual([
      'created',
      'updated',
      'unchanged',
    ]);
    expect(await store.get(KEY, 'products', '2')).toEqual(changed);
    expect(await store.get(KEY, 'products', '404')).toBeUndefined();
    expect(await store.count(KEY, 'products')).toBe(3);
  });

  it('handles the same id twice in one batch in order', async () => {
    const second = record(7, { id: 7, name: 'second' });
    expect(await store.upsert(KEY, 'products', [record(7), record(7), second])).toEqual([
      'created',
      'unchanged',
      'updated',
    ]);
    expect((await store.get(KEY, 'products', '7'))?.data.name).toBe('second');
  });

  it('does not write a shard when every record in it is unchanged', async () => {
    await store.upsert(KEY, 'products', [record(1), record(2), record(1500)]);
    const files = await filesUnder(dir);
    const shard0 = files.find((f) => f.endsWith(`${path.sep}0.json`)) as string;
    const shard1 = files.find((f) => f.endsWith(`${path.sep}1.json`)) as string;
    const before0 = await stat(shard0);
    const before1 = await stat(shard1);
    await new Promise((resolve) => setTimeout(resolve, 20));

    // A fresh instance, so nothing is answered from the cache alone.
    const again = createFileRecordStore(dir);
    expect(await again.upsert(KEY, 'products', [record(2), record(1)])).toEqual(['unchanged', 'unchanged']);
    expect(await again.upsert(KEY, 'products', [record(1500, { id: 1500, name: 'new' })])).toEqual([
      'updated',
    ]);
    await again.close();

    const after0 = await stat(shard0);
    expect([after0.ino, after0.mtimeMs]).toEqual([before0.ino, before0.mtimeMs]);
    const after1 = await stat(shard1);
    expect(after1.mtimeMs).toBeGreaterThan(before1.mtimeMs);
    // Atomic writes leave no temp files behind.
    expect((await filesUnder(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('loses nothing to 50 concurrent upserts, some into the same shard', async () => {
    const batches = Array.from({ length: 50 }, (_, i) =>
      store.upsert(KEY, 'products', [record(i * 7), record(i * 7 + 1), record(1000 + i)]),
    );
    const outcomes = await Promise.all(batches);
    expect(outcomes.flat().filter((o) => o === 'created')).toHaveLength(150);
    expect(await store.count(KEY, 'products')).toBe(150);
    const fresh = createFileRecordStore(dir);
    const all = await collect(fresh.stream(KEY, 'products'));
    await fresh.close();
    expect(all).toHaveLength(150);
    expect(new Set(all.map((r) => r.id)).size).toBe(150);
  });

  it('streams in numeric id order across shard boundaries', async () => {
    const ids = [2500, 5, 1000, 999, 100_000, 0, 1999, 2001, 12];
    await store.upsert(
      KEY,
      'products',
      ids.map((id) => record(id)),
    );
    const streamed = await collect(store.stream(KEY, 'products'));
    expect(streamed.map((r) => r.id)).toEqual([
      '0',
      '5',
      '12',
      '999',
      '1000',
      '1999',
      '2001',
      '2500',
      '100000',
    ]);
    expect(shardOf('999')).toBe('0');
    expect(shardOf('1000')).toBe('1');
  });

  it('puts non-numeric ids in range shards after the numeric ones, in id order', async () => {
    await store.upsert(KEY, 'products', [record('b-sku'), record(3), record('__proto__'), record('a/../x')]);
    expect(shardOf('b-sku')).toBeUndefined();
    const ids = (await collect(store.stream(KEY, 'products'))).map((r) => r.id);
    expect(ids).toEqual(['3', '__proto__', 'a/../x', 'b-sku']);
    expect((await store.get(KEY, 'products', '__proto__'))?.id).toBe('__proto__');
    expect(await store.count(KEY, 'products')).toBe(4);
  });

  it('splits a range shard past 2,000 ids and keeps every id findable, in order, counted once', async () => {
    const id = (i: number) => `default/SKU-${String(i).padStart(5, '0')}`;
    // Out of order, in batches, so inserts land in shards that already split.
    const order = Array.from({ length: 4_500 }, (_, i) => (i * 7_919) % 4_500);
    for (let i = 0; i < order.length; i += 700) {
      await store.upsert(
        KEY,
        'stock',
        order.slice(i, i + 700).map((n) => ({ ...record(n), id: id(n) })),
      );
    }
    const folder = (await readdir(dir))[0] as string;
    const files = (await readdir(path.join(dir, folder, 'stock'))).filter((f) => /^r-\d+\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const ids = (await collect(store.stream(KEY, 'stock'))).map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 4_500 }, (_, i) => id(i)));
    expect(await store.count(KEY, 'stock')).toBe(4_500);
    for (const n of [0, 1_999, 2_000, 4_499]) expect((await store.get(KEY, 'stock', id(n)))?.id).toBe(id(n));
    // Re-writing the same content changes nothing; a fresh store reads the same from disk.
    const again = await store.upsert(KEY, 'stock', [{ ...record(17), id: id(17) }]);
    expect(again).toEqual(['unchanged']);
    const fresh = createFileRecordStore(dir);
    expect(await fresh.count(KEY, 'stock')).toBe(4_500);
    expect((await fresh.get(KEY, 'stock', id(3_333)))?.id).toBe(id(3_333));
    await fresh.close();
  });

  it('tombstones and walks live ids across split range shards, from any id on', async () => {
    const id = (i: number) => `src/SKU-${String(i).padStart(5, '0')}`;
    await store.upsert(
      KEY,
      'stock',
      [1, 2].map((n) => record(n)),
    );
    for (let i = 0; i < 4_500; i += 900)
      await store.upsert(
        KEY,
        'stock',
        Array.from({ length: 900 }, (_, k) => ({ ...record(i + k), id: id(i + k) })),
      );
    const gone = Array.from({ length: 4_500 }, (_, i) => i).filter(
      (i) => i % 10 === 3 || (i >= 1_990 && i < 2_010),
    );
    expect(await store.markDeleted(KEY, 'stock', ['2', ...gone.map(id)], '2026-02-03T04:05:06.000Z')).toBe(
      gone.length + 1,
    );
    const live = Array.from({ length: 4_500 }, (_, i) => i).filter((i) => !gone.includes(i));
    expect(await collect(store.liveIds(KEY, 'stock'))).toEqual(['1', ...live.map(id)]);
    expect(await collect(store.liveIds(KEY, 'stock', '1'))).toEqual(live.map(id));
    expect(await collect(store.liveIds(KEY, 'stock', id(2_500)))).toEqual(
      live.filter((i) => i > 2_500).map(id),
    );
    // An id between two stored ones places the walk too.
    expect(await collect(store.liveIds(KEY, 'stock', `${id(3_000)}~`))).toEqual(
      live.filter((i) => i > 3_000).map(id),
    );
    expect(await store.count(KEY, 'stock')).toBe(live.length + 1);
    expect((await store.get(KEY, 'stock', id(1_995)))?.deletedAt).toBe('2026-02-03T04:05:06.000Z');
  });

  it('a reader streaming while a writer splits a shard it has not read yet still gets every id once, in order', async () => {
    const id = (i: number) => `k-${String(i).padStart(5, '0')}`;
    for (let i = 0; i < 3_000; i += 500) {
      await store.upsert(
        KEY,
        'stock',
        Array.from({ length: 500 }, (_, k) => ({ ...record(i + k), id: id(i + k) })),
      );
    }
    const reader = createFileRecordStore(dir);
    const seen: string[] = [];
    const iterator = reader.stream(KEY, 'stock')[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) seen.push(((await iterator.next()).value as LocalRecord).id);
    // The last shard (ids 2000–2999) splits and is removed while the reader is still in the first.
    const before = (await readdir(path.join(dir, (await readdir(dir))[0] as string, 'stock'))).sort();
    await store.upsert(
      KEY,
      'stock',
      Array.from({ length: 1_500 }, (_, k) => ({ ...record(k), id: id(3_000 + k) })),
    );
    const after = (await readdir(path.join(dir, (await readdir(dir))[0] as string, 'stock'))).sort();
    expect(before.filter((f) => f.startsWith('r-') && !after.includes(f))).toHaveLength(1);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) seen.push(next.value.id);
    await reader.close();
    expect(seen.slice(0, 3_000)).toEqual(Array.from({ length: 3_000 }, (_, i) => id(i)));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
  });

  it('keeps a hostile store key inside its folder', async () => {
    const hostile = ['../../escape', '/etc/passwd', '..', '.', 'a/b\\c', 'http://127.0.0.1:3100/../x'];
    for (const key of hostile) await store.upsert(key, 'products', [record(1)]);
    const parent = path.dirname(dir);
    expect((await readdir(parent)).filter((n) => n === 'escape' || n === 'x')).toEqual([]);
    const folders = await readdir(dir);
    expect(folders).toHaveLength(hostile.length);
    for (const name of folders) expect(name).toMatch(/^[a-z0-9-]+$/);
    for (const key of hostile) expect((await store.get(key, 'products', '1'))?.id).toBe('1');
    expect(storeFolderName('http://127.0.0.1:3100')).toMatch(/^127-0-0-1-3100-[0-9a-f]{16}$/);
    await expect(store.upsert(KEY, '../x', [record(1)])).rejects.toThrow(/Entity names/);
  });

  it('keeps stores and entities apart', async () => {
    await store.upsert(KEY, 'products', [record(1)]);
    await store.upsert('other', 'products', [record(1), record(2)]);
    await store.upsert(KEY, 'orders', [record(5)]);
    expect(await store.count(KEY, 'products')).toBe(1);
    expect(await store.count('other', 'products')).toBe(2);
    expect(await store.count(KEY, 'orders')).toBe(1);
    expect(await store.count(KEY, 'customers')).toBe(0);
    expect(await collect(store.stream(KEY, 'customers'))).toEqual([]);
  });

  it('recounts a shard the counter file does not describe', async () => {
    await store.upsert(KEY, 'products', [record(1), record(2), record(1001)]);
    const folder = path.join(dir, storeFolderName(KEY), 'products');
    const counts = path.join(folder, '_counts.json');
    // As after a crash between a shard's rename and the counter's: the entry names another file version.
    const index = JSON.parse(await readFile(counts, 'utf8')) as Record<
      string,
      { count: number; ino: number }
    >;
    await writeFile(counts, JSON.stringify({ ...index, 0: { ...index['0'], ino: -1, count: 99 } }));
    expect(await store.count(KEY, 'products')).toBe(3);
    expect(JSON.parse(await readFile(counts, 'utf8'))).toMatchObject({ 0: { count: 2 }, 1: { count: 1 } });
    await rm(counts);
    expect(await store.count(KEY, 'products')).toBe(3);
  });

  it('reads shards and a counter file written before tombstones, and counts live records from then on', async () => {
    const folder = path.join(dir, storeFolderName(KEY), 'products');
    await mkdir(folder, { recursive: true });
    // The format of earlier versions: records without deletedAt, counter entries without `live`.
    const old = Object.fromEntries([1, 2, 3].map((id) => [String(id), record(id)]));
    await writeFile(path.join(folder, '0.json'), JSON.stringify(old));
    const s = await stat(path.join(folder, '0.json'));
    await writeFile(
      path.join(folder, '_counts.json'),
      JSON.stringify({ 0: { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, count: 3 } }),
    );
    expect(await store.count(KEY, 'products')).toBe(3);
    expect(JSON.parse(await readFile(path.join(folder, '_counts.json'), 'utf8'))).toMatchObject({
      0: { count: 3, live: 3 },
    });
    expect(await store.markDeleted(KEY, 'products', ['2'], '2026-05-01T00:00:00.000Z')).toBe(1);
    expect(await store.count(KEY, 'products')).toBe(2);
    expect(JSON.parse(await readFile(path.join(folder, '_counts.json'), 'utf8'))).toMatchObject({
      0: { count: 3, live: 2 },
    });
    expect((await collect(store.stream(KEY, 'products'))).map((r) => r.id)).toEqual(['1', '3']);
    expect(await store.get(KEY, 'products', '1')).toEqual(record(1));
  });

  it('streams 20,000 records back complete and in order', async () => {
    const total = 20_000;
    for (let start = 0; start < total; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) =>
        record(start + i, { id: start + i, sku: `SKU-${start + i}` }),
      );
      await store.upsert(KEY, 'products', batch);
    }
    expect(await store.count(KEY, 'products')).toBe(total);
    let expected = 0;
    for await (const r of store.stream(KEY, 'products')) {
      expect(r.id).toBe(String(expected));
      expected++;
    }
    expect(expected).toBe(total);
  });

  it('refuses calls after close and records without an id or hash', async () => {
    await expect(store.upsert(KEY, 'products', [{ ...record(1), hash: '' }])).rejects.toThrow(/hash/);
    await expect(store.upsert(KEY, 'products', [{ ...record(1), id: '' }])).rejects.toThrow(/id/);
    await store.close();
    await expect(store.get(KEY, 'products', '1')).rejects.toThrow(/closed/);
  });
});
