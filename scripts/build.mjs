// npm run build: compiles src/ into dist/ and copies the files the code reads from disk beside its
// source (XSDs, SQL migrations, JSON), so `node dist/...` finds them where `tsx src/...` does.
// views/ stays at the package root; dist/ code reaches it as src/ code does (../../views).
import { spawnSync } from 'node:child_process';
import { cp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const at = args.indexOf('--out-dir');
if (args.includes('--help') || (args.length > 0 && (at !== 0 || args.length !== 2))) {
  console.error('usage: node scripts/build.mjs [--out-dir DIR]   (default: dist)');
  process.exit(args.includes('--help') ? 0 : 2);
}
const outDir = path.resolve(root, at === 0 ? args[1] : 'dist');
const srcDir = path.join(root, 'src');

// A clean output: a file deleted from src/ must not live on in dist/.
await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', outDir],
  {
    stdio: 'inherit',
  },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

let copied = 0;
for (const entry of await readdir(srcDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
  const from = path.join(entry.parentPath, entry.name);
  await cp(from, path.join(outDir, path.relative(srcDir, from)));
  copied++;
}
console.log(`Built ${path.relative(root, outDir) || '.'}/ (${copied} asset files copied from src/).`);
