import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MagentoClient } from '../../src/magento/client.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { hashRecordData } from '../../src/storage/records.js';
import { customerImport } from '../../src/sync/import-export/customer-import.js';
import { formatProblem, importRows, type ImportRequest } from '../../src/sync/import-export/import.js';
import { customersConnector } from '../../src/sync/magento2/connectors.js';
import { startTestConnector } from '../helpers/connector.js';
import { manualIntegration } from '../helpers/simulator.js';

/**
 * A customer PUT replaces the whole customer, so its body must start from the store's customer as it
 * is now, not as the last sync had it: otherwise a change made in the store since that sync (a first
 * name, a group, a flag the file has no column for) is silently undone by an import that edits
 * something else. Against the simulator over real HTTP, with the last sync's record written directly.
 */
let sim: RunningSimulator;
let t: Awaited<ReturnType<typeof startTestConnector>>;
let client: MagentoClient;
/** What reached the store, as `GET V1/customers/1`. */
const requests: string[] = [];
const send = (r: ImportRequest) => {
  requests.push(`${r.method} ${r.path}`);
  if (r.method === 'GET') return client.get(r.path);
  return r.method === 'PUT' ? client.put(r.path, r.body) : client.post(r.path, r.body);
};

beforeAll(async () => {
  sim = await startSimulator({ port: 0, products: 1, customers: 2, orders: 1 });
  t = await startTestConnector({
    SYNC_INTERVALS: 'products=0,customers=0,orders=0,stock=0,customer_groups=0,shipments=0,categories=0',
  });
  const { credentials } = await manualIntegration(sim.url, 'all');
  client = new MagentoClient({ storeBaseUrl: `${sim.url}/`, credentials });
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

/** The last sync of one customer, and the export made from it. */
async function lastSync(index: number) {
  const c = sim.catalog.customers[index]!;
  const synced = customersConnector.toRecord(structuredClone(c) as never);
  await t.connector.records.upsert('s', 'customers', [{ ...synced, hash: hashRecordData(synced.data) }]);
  return { c, exported: { ...(synced.data as Record<string, unknown>) } };
}

const importOne = (row: Record<string, string>) =>
  importRows({
    rows: [row],
    definition: customerImport,
    records: t.connector.records,
    store: 's',
    dryRun: false,
    send,
  });

it('refuses a row exported before the store changed the customer, and leaves that change in place', async () => {
  const { c, exported } = await lastSync(0);
  const lastname = c.lastname;
  // Later, in the store: the customer corrects their first name.
  sim.catalog.updateCustomer(c.id, { ...c, firstname: 'Corrected' }, new Date(Date.now() + 2000));
  // The operator edits only the last name in the file exported earlier, and imports it.
  requests.length = 0;
  const report = await importOne({
    id: String(c.id),
    email: String(exported.email),
    firstname: String(exported.firstname),
    lastname: 'NewLastName',
    updated_at: String(exported.updated_at),
  });
  expect(requests).toEqual([`GET V1/customers/${c.id}`]);
  expect(report).toMatchObject({ sent: 0, changed: 0, invalid: 1, failed: 0 });
  expect(report.problems.flatMap(formatProblem)).toEqual([
    `row 1 (customer ${c.id}): changed in the store since this row was exported (updated_at ${String(exported.updated_at)} in the file, ${c.updated_at} now), ` +
      'so its other cells may undo that change: export again and redo the edit, or empty updated_at to send the row as it is',
  ]);
  expect(c.firstname).toBe('Corrected');
  expect(c.lastname).toBe(lastname);
});

it('applies a row sent as it is (no updated_at) to the store’s current customer, not to the last sync’s', async () => {
  const { c, exported } = await lastSync(1);
  expect(c.group_id).not.toBe(2);
  // Later, in the store: the customer moves to another group and its automatic group change is switched off.
  sim.catalog.updateCustomer(
    c.id,
    { ...c, group_id: 2, disable_auto_group_change: 1 },
    new Date(Date.now() + 2000),
  );
  requests.length = 0;
  const report = await importOne({
    id: String(c.id),
    email: String(exported.email),
    firstname: String(exported.firstname),
    lastname: 'NewLastName',
    group_id: '',
    updated_at: '',
  });
  expect(requests).toEqual([`GET V1/customers/${c.id}`, `PUT V1/customers/${c.id}`]);
  expect(report).toMatchObject({ sent: 1, invalid: 0, failed: 0 });
  expect(c).toMatchObject({ lastname: 'NewLastName', group_id: 2, disable_auto_group_change: 1 });
  // The local record is the store's answer.
  expect((await t.connector.records.get('s', 'customers', String(c.id)))?.data).toMatchObject({
    lastname: 'NewLastName',
    group_id: 2,
    updated_at: c.updated_at,
  });
});
