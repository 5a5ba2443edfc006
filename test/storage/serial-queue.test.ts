import { describe, expect, it } from '@jest/globals';
import { SerialQueue } from '../../src/storage/serial-queue.js';

/** A promise settled from outside, so a test decides when each task ends. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialQueue', () => {
  it('runs the tasks of one key one after another, in order', async () => {
    const queue = new SerialQueue();
    const first = deferred<string>();
    const started: string[] = [];
    const a = queue.run('k', () => (started.push('a'), first.promise));
    const b = queue.run('k', async () => (started.push('b'), 'b'));
    await settle();
    expect(started).toEqual(['a']);
    first.resolve('a');
    expect(await a).toBe('a');
    expect(await b).toBe('b');
    expect(started).toEqual(['a', 'b']);
  });

  it('runs the tasks of different keys at once', async () => {
    const queue = new SerialQueue();
    const held = deferred();
    const started: string[] = [];
    const a = queue.run('one', () => (started.push('one'), held.promise));
    const b = queue.run('two', async () => void started.push('two'));
    await b;
    expect(started).toEqual(['one', 'two']);
    held.resolve();
    await a;
  });

  it('gives a failure to its own caller only: the next task still runs', async () => {
    const queue = new SerialQueue();
    const failing = queue.run('k', () => Promise.reject(new Error('disk full')));
    const next = queue.run('k', async () => 'ran');
    await expect(failing).rejects.toThrow('disk full');
    expect(await next).toBe('ran');
  });

  it('knows which keys are busy, and waits for one key or for all without rejecting', async () => {
    const queue = new SerialQueue();
    const one = deferred();
    const two = deferred();
    void queue.run('one', () => one.promise).catch(() => undefined);
    void queue.run('two', () => two.promise);
    expect(queue.has('one')).toBe(true);
    expect(queue.has('three')).toBe(false);

    let oneIdle = false;
    let allIdle = false;
    void queue.idle('one').then(() => (oneIdle = true));
    void queue.drained().then(() => (allIdle = true));
    one.reject(new Error('refused'));
    await settle();
    expect([oneIdle, allIdle, queue.has('one'), queue.has('two')]).toEqual([true, false, false, true]);

    two.resolve();
    await settle();
    expect([allIdle, queue.has('two')]).toEqual([true, false]);
    await queue.idle('never used');
  });
});
