import { customersConnector } from '../magento2/connectors.js';
import { defineImport, filled, type RowCheck, type RowPlan } from './import.js';
import { recordFromAnswer } from './product-import.js';

/** id, email and both names are required: a PUT replaces the customer and Magento requires them. */
export const CUSTOMER_IMPORT_COLUMNS = [
  'id',
  'email',
  'firstname',
  'lastname',
  'group_id',
  'website_id',
  'store_id',
] as const;
export const CUSTOMER_READ_ONLY_COLUMNS = ['updated_at'] as const;

const TEXT_MAX_LENGTH = 255;
/** Close to what Magento's EmailAddress check accepts: one @, a dotted host, no spaces or controls. */
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\].]{2,}$/u;
const WHOLE = /^\d{1,10}$/;

export interface CustomerEdit {
  email: string;
  firstname: string;
  lastname: string;
  group_id?: number;
  website_id?: number;
  store_id?: number;
}

export interface CustomerRow {
  id: number;
  edit: CustomerEdit;
}

export function checkCustomerRow(row: Record<string, string>): RowCheck<CustomerRow> {
  const errors: string[] = [];
  const id = row.id?.trim() ?? '';
  const label = id === '' ? undefined : `customer ${id}`;
  if (id === '') errors.push("id is required (the store's customer id)");
  else if (!WHOLE.test(id) || Number(id) < 1) errors.push('id must be a whole number of 1 or more');

  const text = (field: 'email' | 'firstname' | 'lastname'): string => {
    const value = row[field];
    if (!filled(value)) {
      errors.push(`${field} is required: Magento refuses a customer without it`);
      return '';
    }
    const trimmed = value.trim();
    if ([...trimmed].length > TEXT_MAX_LENGTH)
      errors.push(`${field} must be at most ${TEXT_MAX_LENGTH} characters`);
    return trimmed;
  };
  const email = text('email');
  if (email !== '' && !EMAIL.test(email)) errors.push(`email "${email}" is not an email address`);
  const edit: CustomerEdit = { email, firstname: text('firstname'), lastname: text('lastname') };

  const whole = (field: 'group_id' | 'website_id' | 'store_id', min: number, meaning: string) => {
    const value = row[field];
    if (!filled(value)) return;
    const v = value.trim();
    if (WHOLE.test(v) && Number(v) >= min) edit[field] = Number(v);
    else errors.push(`${field} must be a whole number${min > 0 ? ` of ${min} or more` : ''} (${meaning})`);
  };
  whole('group_id', 0, 'a customer group id, e.g. 1 for General');
  whole('website_id', 1, 'a website id; 0 is the admin website, which has no customers');
  whole('store_id', 0, 'a store view id');

  if (errors.length > 0) return { ok: false, label, errors };
  return {
    ok: true,
    key: String(Number(id)),
    label: `customer ${Number(id)}`,
    row: { id: Number(id), edit },
  };
}

/** Read-only to Magento or set by it: sending updated_at back could keep the old one, hiding the change from syncs. */
const NOT_SENT = new Set(['updated_at']);

/**
 * CustomerRepository::save replaces the customer with what is sent (addresses sent are the ones
 * kept), so the body is the whole customer with the row's edits applied. Planned first against the
 * local record (what the store last sent), to find the rows that differ; then, just before the PUT,
 * again against the customer read from the store (the definition's refresh), so a change made in
 * the store since the last sync is sent back as it is rather than undone.
 */
export function planCustomer(row: CustomerRow, local: Record<string, unknown> | undefined): RowPlan {
  if (!local) {
    return {
      kind: 'invalid',
      errors: [
        `customer ${row.id} has not been synced from this store; run a sync first ` +
          '(a PUT replaces the whole customer, so it is sent as the store last had it)',
      ],
    };
  }
  const edits = Object.entries(row.edit) as [keyof CustomerEdit, string | number][];
  if (edits.every(([field, value]) => local[field] === value)) return { kind: 'unchanged' };
  const customer = Object.fromEntries(Object.entries(local).filter(([field]) => !NOT_SENT.has(field)));
  return {
    kind: 'send',
    request: {
      method: 'PUT',
      path: `V1/customers/${row.id}`,
      body: { customer: { ...customer, ...row.edit, id: row.id } },
    },
  };
}

/** PUT V1/customers/{id} (ACL Magento_Customer::manage), one per changed row. */
export const customerImport = defineImport<CustomerRow>({
  entity: 'customers',
  columns: CUSTOMER_IMPORT_COLUMNS,
  readOnlyColumns: CUSTOMER_READ_ONLY_COLUMNS,
  help: `customers (PUT V1/customers/{id} per changed row; needs Magento_Customer::manage)
    ${CUSTOMER_IMPORT_COLUMNS.join(', ')}: id, email and names required;
    an empty group_id, website_id or store_id keeps the store's. updated_at: accepted, never sent.
    A PUT replaces the customer: it is read from the store just before, and sent whole with the
    row's values applied (a row whose updated_at is older than the store's is refused); only
    customers already synced can be imported.`,
  versionColumn: 'updated_at',
  checkRow: checkCustomerRow,
  keyOf: (record) => record.id,
  recordId: (key) => key,
  plan: (row, local) => planCustomer(row, local?.data),
  refresh: {
    request: (row) => ({ method: 'GET', path: `V1/customers/${row.id}`, body: undefined }),
    toRecord: (answer) => recordFromAnswer(answer, customersConnector.toRecord),
  },
  recordAfterSend: (answer) => recordFromAnswer(answer, customersConnector.toRecord),
});
