import { CatalogInputError, MESSAGES, invalidTypeError, type ErrorParameters } from './errors.js';
import type { SourceItemStatus } from './types.js';

/** Input validation for the customer and source-item writes, with Magento's messages and order. */

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));

/** PHP's is_numeric, for the JSON values a client may send. */
const isNumeric = (v: unknown): boolean =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v));

function optionalInt(value: unknown, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidTypeError(show(value), 'int');
  if (n < min) throw invalidTypeError(show(value), 'int');
  return n;
}

/** A practical form of Magento's email check (Laminas EmailAddress): one @, a dotted domain, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export interface CustomerFields {
  email: string;
  firstname: string;
  lastname: string;
  group_id?: number;
  website_id?: number;
  store_id?: number;
  disable_auto_group_change?: number;
}

/** The `customer` object of `PUT /V1/customers/:id`; unknown keys are ignored, as the simulator does not model them. */
export function validateCustomer(input: unknown): CustomerFields {
  if (!isRecord(input)) throw new CatalogInputError(MESSAGES.required, { fieldName: 'customer' });
  const text = (key: string): string => {
    const v = input[key];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw invalidTypeError(show(v), 'string');
    return v.trim();
  };
  const email = text('email');
  if (email === '') throw new CatalogInputError(MESSAGES.emailMissing);
  if (!EMAIL.test(email)) throw new CatalogInputError(MESSAGES.invalidEmail, ['Email']);
  const firstname = text('firstname');
  if (firstname === '') throw new CatalogInputError(MESSAGES.requiredValue, ['First Name']);
  const lastname = text('lastname');
  if (lastname === '') throw new CatalogInputError(MESSAGES.requiredValue, ['Last Name']);
  const out: CustomerFields = { email, firstname, lastname };
  const group = optionalInt(input.group_id, 0);
  if (group !== undefined) out.group_id = group;
  const website = optionalInt(input.website_id, 0);
  if (website !== undefined) out.website_id = website;
  const store = optionalInt(input.store_id, 0);
  if (store !== undefined) out.store_id = store;
  const auto = optionalInt(input.disable_auto_group_change, 0);
  if (auto !== undefined) out.disable_auto_group_change = auto > 0 ? 1 : 0;
  return out;
}

export interface SourceItemFields {
  sku: string;
  source_code: string;
  quantity: number;
  status: SourceItemStatus;
}

/** The value the webapi's type conversion hands the validators: strings stay strings, numbers are kept. */
function asString(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalidTypeError(show(v), 'string');
}

/**
 * `{sourceItems: [...]}` of `POST /V1/inventory/source-items`. Every item goes through MSI's validator
 * chain (sku, source_code, quantity, status); all errors are gathered, and the first names the exception,
 * as SourceItemsSaveHandler words it ("Validation Failed: ...").
 */
export function validateSourceItems(body: unknown): SourceItemFields[] {
  const list = isRecord(body) ? body.sourceItems : undefined;
  if (list === undefined || list === null) {
    throw new CatalogInputError(MESSAGES.required, { fieldName: 'sourceItems' });
  }
  if (!Array.isArray(list)) throw invalidTypeError(show(list), 'SourceItemInterface[]');
  if (list.length === 0) throw new CatalogInputError(MESSAGES.inputEmpty);
  const errors: { message: string; parameters: ErrorParameters }[] = [];
  const error = (message: string, field: string) => errors.push({ message, parameters: { field } });
  const items = list.map((raw: unknown): SourceItemFields => {
    if (!isRecord(raw)) throw invalidTypeError(show(raw), 'SourceItemInterface');
    const sku = asString(raw.sku);
    if (sku.trim() === '') error(MESSAGES.fieldEmpty, 'sku');
    if (sku.trim() !== sku) error(MESSAGES.fieldSpaces, 'sku');
    const sourceCode = asString(raw.source_code);
    if (sourceCode.trim() === '') error(MESSAGES.fieldEmpty, 'source_code');
    if (/\s/.test(sourceCode)) error(MESSAGES.fieldWhitespace, 'source_code');
    if (!isNumeric(raw.quantity)) error(MESSAGES.fieldNumeric, 'quantity');
    if (!isNumeric(raw.status)) error(MESSAGES.fieldNumeric, 'status');
    const status = isNumeric(raw.status) ? Math.trunc(Number(raw.status)) : NaN;
    if (status !== 0 && status !== 1) error(MESSAGES.fieldStatus, 'status');
    return {
      sku,
      source_code: sourceCode,
      quantity: Number(raw.quantity),
      status: status as SourceItemStatus,
    };
  });
  const first = errors[0];
  if (first) {
    const rendered = first.message.replace('%field', String((first.parameters as { field: string }).field));
    throw new CatalogInputError(`Validation Failed: ${rendered}`, [], errors);
  }
  return items;
}
