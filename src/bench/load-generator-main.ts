import { readFile } from 'node:fs/promises';
import { runLoad, type LoadPlan } from './load-generator.js';

/**
 * Entry of the load generator's own process: `load-generator-main.ts <plan.json>`. One JSON line per
 * callback on stdout between `{"ready":true}` and `{"done":true}`. SIGTERM stops starting callbacks; those in flight finish.
 */

const plan = JSON.parse(await readFile(process.argv[2] ?? '', 'utf8')) as LoadPlan;
let stopping = false;
process.once('SIGTERM', () => (stopping = true));
process.once('SIGINT', () => (stopping = true));
await runLoad(
  plan,
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  () => stopping,
  // Signals are handled and credentials registered: the parent may start its clock.
  () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`),
);
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
