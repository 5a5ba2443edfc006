import { rm } from 'node:fs/promises';

/** Stops the run's PostgreSQL (global hooks get no module mapping, so this repeats the state's shape). */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __testPostgres?: { pg: { stop(): Promise<void> }; dir: string } })
    .__testPostgres;
  if (!state) return;
  await state.pg.stop();
  await rm(state.dir, { recursive: true, force: true });
}
