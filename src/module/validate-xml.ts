import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';

const XSD_DIR = path.resolve(import.meta.dirname, 'xsd');
export type SchemaName = 'integration' | 'integration_file' | 'config' | 'api';

/** Schema-validates one XML document with libxml2 (as WebAssembly); returns the errors, empty when valid. */
export async function validateAgainst(schema: SchemaName, fileName: string, xml: string): Promise<string[]> {
  const [main, base] = await Promise.all([
    readFile(path.join(XSD_DIR, `${schema}.xsd`), 'utf8'),
    readFile(path.join(XSD_DIR, 'integration_base.xsd'), 'utf8'),
  ]);
  const result = await validateXML({
    xml: { fileName, contents: xml },
    schema: { fileName: `${schema}.xsd`, contents: main },
    preload: { fileName: 'integration_base.xsd', contents: base },
  });
  return result.valid ? [] : result.errors.map((e) => e.message.trim());
}
