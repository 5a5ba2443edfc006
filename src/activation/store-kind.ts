import { authModeOf, type IntegrationRecord } from '../storage/types.js';

/** What kind of store a record reaches, in words (dashboard, CLI): its auth mode tells. */
export function storeKindLabel(record: Pick<IntegrationRecord, 'auth'>): string {
  return authModeOf(record) === 'ims-server-to-server'
    ? 'Adobe Commerce as a Cloud Service'
    : 'Magento / Adobe Commerce (on-premises or Cloud PaaS)';
}

/** How the connector got the store's credentials, in words. */
export function registrationLabel(record: Pick<IntegrationRecord, 'registration'>): string {
  switch (record.registration) {
    case 'manual':
      return 'manual integration (credentials pasted)';
    case 'ims':
      return 'IMS server-to-server credential';
    default:
      return 'integration activated (handshake)';
  }
}
