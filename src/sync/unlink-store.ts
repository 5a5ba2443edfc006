import type { RecordStore } from '../storage/records.js';
import { authModeOf, type IntegrationRecord, type Storage } from '../storage/types.js';
import type { SyncService } from './sync-service.js';

export interface UnlinkReport {
  store: string;
  consumerKey: string;
  /** Sync runs that were queued or running, now cancelled. */
  cancelledRuns: number;
  records: number;
  /** Entities whose running sync did not confirm it stopped (its process may be gone). */
  unconfirmed: string[];
  /** What the merchant does in the store's admin, which still holds the integration. */
  storeAdminSteps: string;
}

/** The live records synced from a store, over these entities: what an unlink deletes (said before asking). */
export async function syncedRecordCount(
  records: RecordStore,
  storeKey: string,
  entities: readonly string[],
): Promise<number> {
  const counts = await Promise.all(entities.map((entity) => records.count(storeKey, entity)));
  return counts.reduce((a, b) => a + b, 0);
}

/** What is left to do on the store's side once the connector forgot it. */
export function storeAdminSteps(record: IntegrationRecord): string {
  if (authModeOf(record) === 'ims-server-to-server')
    return (
      `In the Adobe Developer Console, delete the OAuth Server-to-Server credential ${record.ims?.clientId ?? ''} ` +
      '(or rotate its client secret) if nothing else uses it; to link the store again, run npm run store -- add-saas.'
    );
  const relink =
    record.registration === 'manual'
      ? 'npm run store -- add-manual with the credentials the admin shows'
      : 'Reauthorize on the integration (the connector then receives new credentials)';
  return (
    `In the store admin (System > Extensions > Integrations), delete the integration whose consumer key is ${record.consumerKey}, ` +
    `so its tokens stop working there too; to link the store again instead, use ${relink}.`
  );
}

/**
 * Unlinks a store: its credentials go first (nothing calls the store from then on), then its sync jobs
 * are stopped and its runs, cursors, alerts and synced records deleted. Undefined when there is no such store.
 */
export async function unlinkStore(
  deps: { storage: Storage; sync: SyncService },
  consumerKey: string,
  options: { waitMs?: number } = {},
): Promise<UnlinkReport | undefined> {
  const record = await deps.storage.integrations.get(consumerKey);
  if (!record) return undefined;
  await deps.storage.integrations.delete(consumerKey);
  const forgotten = await deps.sync.forgetStore(consumerKey, options);
  // Open dashboards and identity pages look again.
  await deps.storage.notices.publish(`integration:${consumerKey}`);
  return {
    store: record.storeBaseUrl,
    consumerKey,
    cancelledRuns: forgotten.cancelled,
    records: forgotten.records,
    unconfirmed: forgotten.unconfirmed,
    storeAdminSteps: storeAdminSteps(record),
  };
}

/** The report in sentences (CLI and dashboard). */
export function describeUnlink(report: UnlinkReport): string[] {
  return [
    `Unlinked ${report.store} (${report.consumerKey}): its tokens are deleted, ` +
      `${report.cancelledRuns} open sync run${report.cancelledRuns === 1 ? '' : 's'} stopped, ` +
      `${report.records} synced record${report.records === 1 ? '' : 's'} deleted.`,
    ...(report.unconfirmed.length > 0
      ? [
          `The running ${report.unconfirmed.join(', ')} sync did not confirm it stopped (its process may be gone); ` +
            'if a connector restarts with it, unlink again.',
        ]
      : []),
    report.storeAdminSteps,
  ];
}
