import { MagentoClient } from '../magento/client.js';
import type { IntegrationRecord, IntegrationStore } from '../storage/types.js';
import type { ActivationService } from './activation-service.js';

/**
 * A signed client for one linked store. A 401 on its once-working token marks the integration
 * "needs reauthorization"; a signing rule learned from the store is kept for next time.
 */
export function clientForIntegration(
  record: IntegrationRecord,
  deps: { activation: ActivationService; integrations: IntegrationStore },
): MagentoClient {
  if (record.status !== 'active' && record.status !== 'needs_reauth') {
    throw new Error(
      `Integration ${record.consumerKey} for ${record.storeOrigin} is ${record.status}, not active.`,
    );
  }
  if (!record.accessToken || !record.accessTokenSecret) {
    throw new Error(`Integration ${record.consumerKey} has no access token; activate it in the store admin.`);
  }
  return new MagentoClient({
    storeBaseUrl: record.storeBaseUrl,
    credentials: {
      consumerKey: record.consumerKey,
      consumerSecret: record.consumerSecret,
      token: record.accessToken,
      tokenSecret: record.accessTokenSecret,
    },
    signatureMethod: record.signatureMethod,
    signing: 'auto',
    learnedSigning: record.signing,
    onSigningLearned: (signing) => {
      void deps.integrations.update(record.consumerKey, (r) => ({ ...r, signing }));
    },
    onAuthFailure: (error) => {
      void deps.activation.markNeedsReauthorization(record.consumerKey, error.message);
    },
  });
}
