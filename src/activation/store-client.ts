import { MagentoClient } from '../magento/client.js';
import { sharedImsTokenProvider, type ImsClientCredentials } from '../magento/ims-token.js';
import type { OAuthCredentials } from '../oauth1/index.js';
import { authModeOf, type IntegrationRecord, type IntegrationStore } from '../storage/types.js';
import type { ActivationService } from './activation-service.js';

/** Store answers that mean the token itself no longer exists or works (contract §3.5, §5.1, §5.4). */
const TOKEN_GONE =
  /Specified token does not exist|consumer having the specified key does not exist|Access token has been revoked|Token is not an access token|Token is not associated with the specified consumer/;

/** The four values a signed call needs, or an error saying why the record has none. */
export function accessCredentials(record: IntegrationRecord): Required<OAuthCredentials> {
  if (authModeOf(record) !== 'oauth1-integration') {
    throw new Error(
      `Store ${record.storeBaseUrl} is an Adobe Commerce as a Cloud Service instance: it has IMS credentials, not OAuth tokens.`,
    );
  }
  if (!record.accessToken || !record.accessTokenSecret || !record.consumerSecret) {
    throw new Error(
      `Integration ${record.consumerKey} for ${record.storeOrigin} has no access token; activate it in the store admin.`,
    );
  }
  return {
    consumerKey: record.consumerKey,
    consumerSecret: record.consumerSecret,
    token: record.accessToken,
    tokenSecret: record.accessTokenSecret,
  };
}

/** The IMS client credentials of a Cloud Service store, or an error saying why the record has none. */
export function imsCredentials(record: IntegrationRecord): ImsClientCredentials {
  if (authModeOf(record) !== 'ims-server-to-server' || !record.ims || !record.imsClientSecret) {
    throw new Error(`Store ${record.storeBaseUrl} (${record.consumerKey}) has no IMS client credentials.`);
  }
  return { ...record.ims, clientSecret: record.imsClientSecret };
}

/**
 * A client for one linked store: signed with its OAuth tokens, or (Cloud Service) carrying an IMS
 * token shared by every client of that IMS credential in this process. A 401 on its once-working token marks the integration
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
  if (authModeOf(record) === 'ims-server-to-server') {
    return new MagentoClient({
      storeBaseUrl: record.storeBaseUrl,
      bearer: sharedImsTokenProvider(imsCredentials(record)),
      restPath: '',
    });
  }
  return new MagentoClient({
    storeBaseUrl: record.storeBaseUrl,
    credentials: accessCredentials(record),
    signatureMethod: record.signatureMethod,
    signing: 'auto',
    learnedSigning: record.signing,
    onSigningLearned: (signing) => {
      void deps.integrations.update(record.consumerKey, (r) => ({ ...r, signing }));
    },
    onAuthFailure: (error) => {
      // Only a dead token means "reauthorize"; the ACL 401 may just be a resource not granted.
      if (TOKEN_GONE.test(error.rawMessage)) {
        void deps.activation.markNeedsReauthorization(record.consumerKey, error.message);
      }
    },
  });
}
