import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * The file the demo writes into a folder it creates. The demo empties its folder at every start,
 * so it only ever empties a folder holding this file: never the real data (db.json, the key).
 */
export const DEMO_MARKER = '.demo-data';

const MARKER_TEXT =
  'Created by npm run demo, which empties this folder at every start.\n' +
  'Delete this file to keep the demo from ever emptying the folder.\n';

/**
 * The ACL resources of the demo's integration in the store: one per entity the connector syncs, so
 * no scheduled run is refused; manage: customer writes, so `npm run import -- --entity customers`
 * works against the demo store.
 */
export const DEMO_RESOURCES: readonly string[] = [
  'Magento_Backend::stores',
  'Magento_Catalog::products',
  'Magento_Sales::actions_view',
  'Magento_Customer::customer',
  'Magento_Customer::manage',
  'Magento_Customer::group',
  'Magento_Sales::shipment',
  'Magento_Catalog::categories',
  'Magento_InventoryApi::source',
  'Magento_InventoryApi::stock_source_item_assign',
];

/** The default demo folder under a data folder. */
export const demoDataDir = (dataDir: string): string => path.join(dataDir, 'demo');

/** Refused: the folder was not created by the demo, or another demo is running on it. */
export class NotDemoFolderError extends Error {}

/**
 * Held while the demo runs, so that a second demo (started on other ports, or failing on the same
 * ones) refuses the folder instead of emptying it under the first. The lock is a folder beside the
 * data folder (which is emptied), kept fresh while held; one left by a killed demo goes stale in 10 s.
 */
export async function lockDemoFolder(dir: string, flag = '--data'): Promise<() => Promise<void>> {
  await mkdir(path.dirname(path.resolve(dir)), { recursive: true });
  try {
    return await lockfile.lock(dir, {
      realpath: false,
      lockfilePath: `${path.resolve(dir)}.lock`,
      stale: 10_000,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new NotDemoFolderError(
      `${flag} ${dir}: another demo is running on this folder; nothing was deleted. Stop it first, ` +
        `or give this one its own folder (npm run demo -- ${flag} ${path.join(path.dirname(dir), 'demo-2')} ` +
        'with --port and --store-port). If that demo was killed just now, its lock lapses within 10 s.',
    );
  }
}

export async function isDemoFolder(dir: string): Promise<boolean> {
  return access(path.join(dir, DEMO_MARKER)).then(
    () => true,
    () => false,
  );
}

/**
 * A fresh, empty demo folder with its marker. A folder the demo created before is emptied; a missing
 * or empty folder is created; any other folder is refused and left as it is.
 */
export async function prepareDemoFolder(dir: string, flag = '--data'): Promise<void> {
  if (await isDemoFolder(dir)) {
    await rm(dir, { recursive: true, force: true });
  } else {
    const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    if (entries.length > 0) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
      throw new NotDemoFolderError(
        `${flag} ${dir}: this folder was not created by the demo (it has no ${DEMO_MARKER} file) and holds ${shown}. ` +
          'The demo empties its folder at every start, so it will not use this one; nothing was deleted. ' +
          `Pick a new folder (npm run demo -- ${flag} ${path.join(path.dirname(dir), 'demo-2')}), ` +
          "or, if this is an earlier demo's data you no longer need, delete it yourself and start again.",
      );
    }
  }
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, DEMO_MARKER), MARKER_TEXT);
}
