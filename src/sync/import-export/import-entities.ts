import { customerImport } from './customer-import.js';
import type { AnyImportDefinition } from './import.js';
import { productImport } from './product-import.js';
import { sourceItemImport } from './source-item-import.js';

/** What `npm run import -- --entity X` accepts; the first is the default. A new entity is one line here. */
export const IMPORT_DEFINITIONS = {
  products: productImport,
  customers: customerImport,
  stock: sourceItemImport,
} as const satisfies Record<string, AnyImportDefinition>;

export type ImportEntity = keyof typeof IMPORT_DEFINITIONS;
export const IMPORT_ENTITIES = Object.keys(IMPORT_DEFINITIONS) as ImportEntity[];

export function isImportEntity(value: string): value is ImportEntity {
  return Object.hasOwn(IMPORT_DEFINITIONS, value);
}
