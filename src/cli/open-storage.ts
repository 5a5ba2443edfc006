import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { openStorage } from '../storage/open.js';
import type { IntegrationRecord, Storage } from '../storage/types.js';
import { demoDataDir, isDemoFolder } from './demo-data.js';
import { isLinked } from './pick-integration.js';

type CliConfig = Pick<Config, 'DATA_DIR' | 'TOKEN_ENCRYPTION_KEY' | 'NODE_ENV' | 'DATABASE_URL'>;

/**
 * The storage a command works on, chosen as the server chooses it (DATABASE_URL, else DATA_DIR).
 * Warnings go to stderr so stdout stays the command's own output.
 */
export async function openCliStorage(config: CliConfig): Promise<Storage> {
  const { storage } = await openStorage({
    dataDir: config.DATA_DIR,
    envKey: config.TOKEN_ENCRYPTION_KEY,
    production: config.NODE_ENV === 'production',
    databaseUrl: config.DATABASE_URL,
    logger: { warn: (details, message) => console.error(`${message} ${JSON.stringify(details)}`) },
  });
  return storage;
}

const usable = (records: IntegrationRecord[]) => records.some(isLinked);

/**
 * For commands that work on a linked store: the storage of DATA_DIR, or, when it has no linked store
 * and the demo's folder (DATA_DIR/demo, made by `npm run demo`) has one, the demo's, said on stderr.
 * Without this, every command after a demo answers "No active integration".
 */
export async function openStoreStorage(config: CliConfig): Promise<Storage> {
  const demoDir = demoDataDir(config.DATA_DIR);
  const useDemo = async (): Promise<Storage | undefined> => {
    const demo = await openCliStorage({ ...config, DATA_DIR: demoDir });
    if (usable(await demo.integrations.list({ secrets: false }))) {
      console.error(
        `No linked store in ${config.DATA_DIR}/: using the demo's data in ${demoDir}/ (DATA_DIR=${demoDir} says so explicitly).`,
      );
      return demo;
    }
    await demo.close();
    return undefined;
  };
  if (config.DATABASE_URL || !(await isDemoFolder(demoDir))) return openCliStorage(config);
  // A DATA_DIR never written to is not opened first: that would make it a key file for nothing.
  const untouched = await access(path.join(config.DATA_DIR, 'db.json')).then(
    () => false,
    () => true,
  );
  if (untouched) return (await useDemo()) ?? openCliStorage(config);
  const main = await openCliStorage(config);
  if (usable(await main.integrations.list({ secrets: false }))) return main;
  const demo = await useDemo();
  if (!demo) return main;
  await main.close();
  return demo;
}
