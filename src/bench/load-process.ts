import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnTsx, type TsxChild } from './child-process.js';
import type { CallbackResult, LoadPlan } from './load-generator.js';

export interface LoadProcess {
  /** Results so far (grows while the generator runs). */
  results: CallbackResult[];
  /** Resolves when the generator has posted everything (or was stopped) and exited. */
  done: Promise<CallbackResult[]>;
  /** SIGTERM: no new callbacks; resolves once those in flight are answered or failed. */
  stop: () => Promise<CallbackResult[]>;
  process: TsxChild;
}

/** The load generator (src/bench/load-generator.ts) in its own process. */
export async function startLoadGenerator(plan: LoadPlan): Promise<LoadProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-load-'));
  const file = path.join(dir, 'plan.json');
  await writeFile(file, JSON.stringify(plan));
  const p = spawnTsx('src/bench/load-generator-main.ts', [file], {});
  const results: CallbackResult[] = [];
  let finished = false;
  let markReady = () => undefined as void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  p.onStdoutLine((line) => {
    if (!line.trim()) return;
    const parsed = JSON.parse(line) as CallbackResult | { done: true } | { ready: true };
    if ('done' in parsed) finished = true;
    else if ('ready' in parsed) markReady();
    else results.push(parsed);
  });
  const done = p.exited.then(async (exit) => {
    await rm(dir, { recursive: true, force: true });
    if (!finished)
      throw new Error(`load generator ended (${exit.code ?? exit.signal}) early: ${p.stderr().slice(-2000)}`);
    return results;
  });
  // Callers may only read `results`; an early end still surfaces through `done`/`stop`.
  done.catch(() => undefined);
  // Until its SIGTERM handler is installed a signal would kill it: hand it out only once it is ready.
  await Promise.race([ready, done]);
  return {
    results,
    done,
    process: p,
    stop: () => {
      p.kill('SIGTERM');
      return done;
    },
  };
}
