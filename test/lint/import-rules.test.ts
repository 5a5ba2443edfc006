import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';

/**
 * `npm run lint` runs dependency-cruiser with .dependency-cruiser.cjs. These run it on a small tree
 * laid out like src/, one file per kind of wrong import, and on the real code.
 */
const ROOT = process.cwd();
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
let dir: string;

function cruise(cwd: string): { rule: string; from: string; to: string }[] {
  const run = spawnSync(
    DEPCRUISE,
    ['src', '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd, encoding: 'utf8' },
  );
  if (run.status !== 0 && !run.stdout) throw new Error(run.stderr);
  const result = JSON.parse(run.stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

const files: Record<string, string> = {
  'src/sync/types.ts': 'export type Connector = { entity: string };\n',
  'src/web/app.ts': 'export const createApp = () => 1;\n',
  'src/oauth1/sign.ts': 'export const sign = () => 1;\n',
  'src/app/main.ts': "import { createApp } from '../web/app.js';\nexport const start = createApp;\n",
  // The wrong ones.
  'src/storage/records.ts':
    "import type { Connector } from '../sync/types.js';\nexport type R = Connector;\n",
  'src/activation/routes.ts': "import { createApp } from '../web/app.js';\nexport const r = createApp;\n",
  'src/simulator/verify.ts': "import { sign } from '../oauth1/sign.js';\nexport const v = sign;\n",
  'src/sync/run.ts': "import { start } from '../app/main.js';\nexport const s = start;\n",
  'src/magento/a.ts': "import { b } from './b.js';\nexport const a = (): unknown => b;\n",
  'src/magento/b.ts': "import { a } from './a.js';\nexport const b = (): unknown => a;\n",
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'import-rules-'));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  await copyFile(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('names every import against the documented direction, and a file cycle', () => {
  const found = cruise(dir).map((v) => `${v.rule}: ${v.from} -> ${v.to}`);
  expect(found.sort()).toEqual(
    [
      'storage-imports-no-feature-code: src/storage/records.ts -> src/sync/types.ts',
      'only-the-edge-imports-web: src/activation/routes.ts -> src/web/app.ts',
      'simulator-is-independent: src/simulator/verify.ts -> src/oauth1/sign.ts',
      'only-commands-import-the-composition-root: src/sync/run.ts -> src/app/main.ts',
      'no-cycle: src/magento/a.ts -> src/magento/b.ts',
    ].sort(),
  );
});

it('finds nothing in the project’s own code', () => {
  expect(cruise(ROOT)).toEqual([]);
});
