import { MagentoAuthError, MagentoError } from '../magento/errors.js';
import { ACL_REFUSED, RESOURCE_PROBES } from '../magento/resource-probes.js';
import type { ConnectionCheck, IntegrationRecord, IntegrationStore } from '../storage/types.js';
import type { ActivationService } from './activation-service.js';
import { clientForIntegration } from './store-client.js';

const ANSWER_LIMIT = 2000;

/** "Test connection": a signed `GET /V1/store/storeConfigs`, timed, plus the resource probe. */
export async function checkConnection(
  record: IntegrationRecord,
  deps: { activation: ActivationService; integrations: IntegrationStore },
): Promise<ConnectionCheck> {
  const at = new Date().toISOString();
  const started = performance.now();
  let check: ConnectionCheck;
  try {
    const client = clientForIntegration(record, deps);
    const configs = await client.get<unknown>('V1/store/storeConfigs');
    const durationMs = Math.round(performance.now() - started);
    // storeConfigs just answered, so Stores is granted; the others are asked one by one.
    const resources = [
      { resource: 'Magento_Backend::stores', label: 'Stores', granted: true as boolean | null },
    ];
    for (const probe of RESOURCE_PROBES.filter((p) => p.paged)) {
      resources.push({
        resource: probe.resource,
        label: probe.label,
        granted: await client.get(probe.path, { searchParams: [['searchCriteria[pageSize]', '1']] }).then(
          () => true,
          (error: unknown) =>
            error instanceof MagentoAuthError && error.rawMessage === ACL_REFUSED ? false : null,
        ),
      });
    }
    check = { at, ok: true, durationMs, answer: cut(JSON.stringify(configs, null, 2)), resources };
  } catch (error) {
    const message = error instanceof MagentoError || error instanceof Error ? error.message : String(error);
    check = {
      at,
      ok: false,
      durationMs: Math.round(performance.now() - started),
      answer: message,
      resources: [],
    };
  }
  await deps.integrations.update(record.consumerKey, (r) => ({ ...r, lastCheck: check }));
  return check;
}

function cut(text: string): string {
  return text.length > ANSWER_LIMIT ? `${text.slice(0, ANSWER_LIMIT)}\n…` : text;
}
