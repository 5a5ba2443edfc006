import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModuleInputError, type GeneratedModule } from './generate.js';
import { zipModule } from './zip.js';

/**
 * Writes the module under `<out>/<Vendor>/<Module>` (and `<out>/<Vendor>_<Module>.zip`). Refuses
 * to overwrite an existing module folder unless `force`, so nothing is lost silently.
 */
export async function writeModule(
  generated: GeneratedModule,
  options: { out: string; zip?: boolean; force?: boolean },
): Promise<{ dir: string; zip?: string }> {
  const [vendor = '', module = ''] = generated.moduleName.split('_');
  const dir = path.join(options.out, vendor, module);
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0 && !options.force) {
    throw new ModuleInputError(
      `${dir} already exists and is not empty; choose another --out or pass --force to overwrite it.`,
    );
  }
  for (const file of generated.files) {
    const target = path.join(dir, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.contents);
  }
  if (!options.zip) return { dir };
  const zip = path.join(options.out, `${generated.moduleName}.zip`);
  await writeFile(zip, zipModule(generated));
  return { dir, zip };
}
