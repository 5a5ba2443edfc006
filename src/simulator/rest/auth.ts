import type { Request } from 'express';
import { toIncoming } from '../oauth/incoming.js';
import { OauthProblem } from '../oauth/problems.js';
import type { SignatureProfile } from '../oauth/profile.js';
import type { OauthProvider } from '../oauth/provider.js';
import type { ImsService } from '../ims/ims.js';
import { STATUS, type Integration, type SimulatorState } from '../state.js';
import { RestError } from './rest-error.js';

export interface RestAuthDeps {
  state: SimulatorState;
  provider: OauthProvider;
  profile: () => SignatureProfile;
  bearerEnabled: () => boolean;
  /**
   * SaaS mode (Adobe Commerce as a Cloud Service): only IMS Bearer tokens authenticate; integration
   * tokens, signed or not, do not exist there.
   */
  ims?: ImsService;
}

/** What a route's ACL check needs of the caller. */
export type RestUser = Pick<Integration, 'allResources' | 'resources'>;

/** An IMS technical account: its Commerce admin role is taken as full access. */
const IMS_USER: RestUser = { allResources: true, resources: [] };

/**
 * The user context of a REST call: the Active integration that signed it, or null (anonymous).
 * OAuth validation errors propagate with Magento's status (contract §5.1); a refused Bearer token
 * just leaves the context empty, so it ends in the generic ACL 401 (§5.2).
 */
export function authenticate(req: Request, deps: RestAuthDeps): RestUser | null {
  if (deps.ims) return authenticateIms(req, deps.ims);
  const incoming = toIncoming(req, deps.profile());
  if (incoming.view.protocol) {
    const p = incoming.view.protocol;
    const entry = {
      endpoint: 'rest' as const,
      method: req.method,
      url: req.originalUrl,
      consumerKey: p.oauth_consumer_key ?? null,
      nonce: p.oauth_nonce ?? null,
      signatureMethod: p.oauth_signature_method ?? null,
    };
    try {
      const { consumer } = deps.provider.validateAccessTokenRequest(incoming);
      deps.state.log({ ...entry, outcome: 'verified', status: 200, reason: null });
      const integration = deps.state.integrationByConsumer(consumer.id);
      // findActiveIntegrationByConsumerId: a revoked, inactive or re-created integration has no user.
      return integration?.status === STATUS.active ? integration : null;
    } catch (error) {
      if (!(error instanceof OauthProblem)) throw error;
      deps.state.log({ ...entry, outcome: 'rejected', status: error.status, reason: error.message });
      throw new RestError(error.status, error.template, error.parameters);
    }
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (bearer && deps.bearerEnabled()) {
    const token = deps.state.tokenByValue(bearer[1] as string);
    if (token?.type === 'access' && !token.revoked) {
      // The opaque token reader does not check the Active status (contract §5.2, inferred).
      return deps.state.integrationByConsumer(token.consumerId) ?? null;
    }
  }
  return null;
}

/**
 * SaaS: a Bearer IMS token that has not expired, or nobody. An OAuth header is not an error here
 * (the service has no OAuth verifier); it just authenticates no one, so the call ends in the ACL 401.
 */
function authenticateIms(req: Request, ims: ImsService): RestUser | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer && ims.verify(bearer[1] as string) ? IMS_USER : null;
}

export function isAllowed(integration: RestUser | null, resource: string): boolean {
  if (!integration) return false;
  return integration.allResources || integration.resources.includes(resource);
}
