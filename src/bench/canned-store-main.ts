import { createCannedStore } from './canned-store.js';

/** Entry of the canned store's own process: `node --import tsx src/bench/canned-store-main.ts [--port N]`. */

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const store = createCannedStore({
  tokenLatencyMs: Number(arg('token-latency-ms') ?? 0),
  restLatencyMs: Number(arg('rest-latency-ms') ?? 0),
});
const port = await store.listen(Number(arg('port') ?? 0));
// The parent reads this line to learn the port.
console.log(JSON.stringify({ listening: port }));
const stop = () => void store.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
