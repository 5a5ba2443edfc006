import { strToU8, zipSync } from 'fflate';
import type { GeneratedModule } from './generate.js';

/** A zip whose contents go straight into app/code/<Vendor>/<Module>. */
export function zipModule(generated: GeneratedModule): Uint8Array {
  const entries = Object.fromEntries(generated.files.map((f) => [f.path, strToU8(f.contents)]));
  // A fixed date keeps the archive identical for identical input.
  return zipSync(entries, { level: 9, mtime: new Date('2020-01-01T00:00:00Z') });
}
