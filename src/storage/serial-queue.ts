/**
 * Tasks with the same key run one after another, in the order they were queued; tasks with different
 * keys run at once. A task that fails fails its own caller only: the next one still runs. In-process
 * only (a file shard's writes, one exchange per consumer key): across processes, storage locks do this.
 * It lives in storage/ because every layer may import storage, and storage imports no feature code.
 */
export class SerialQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every task queued before it for `key` has settled; its result is the caller's. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Whether a task for `key` is queued or running. */
  has(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Resolves (never rejects) once the tasks queued for `key` so far have settled. */
  idle(key: string): Promise<void> {
    return this.#tails.get(key) ?? Promise.resolve();
  }

  /** Resolves (never rejects) once every task queued so far has settled. */
  async drained(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
