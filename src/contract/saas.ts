import { randomBytes } from 'node:crypto';
import { ImsTokenError, type ImsTokenProvider } from '../magento/ims-token.js';
import type { Check, ContractContext, Outcome } from './checks.js';
import { storeSaid } from './probe.js';

/**
 * Adobe Commerce as a Cloud Service: no integration tokens, so nothing is signed. The checks about
 * OAuth signatures, nonces and timestamps have nothing to check there; these say why, and the IMS
 * checks below take the place of `sign.sha256`. Checks not named here (queries, ACL, writes, the
 * per-entity ones) run on the Bearer token as they are.
 */
export const NOT_FOR_SAAS: Readonly<Record<string, string>> = {
  'base-url.storefront': 'the REST base of an instance (https://host/<tenant-id>/) is not a storefront.',
  'sign.sha256': 'requests carry an IMS Bearer token, not an OAuth 1.0a signature (see ims.*).',
  'sign.sha1': 'nothing is signed.',
  'queries.ten-filter-groups': 'parameter order only matters to a signature.',
  'queries.slash-in-path': 'how a path is signed only matters to a signature.',
  'security.tampered-signature': 'nothing is signed; ims.bad-token checks that a wrong token is refused.',
  'security.nonce-reuse': 'there are no nonces without OAuth 1.0a.',
  'security.future-timestamp': 'there are no OAuth timestamps without OAuth 1.0a.',
  bearer: 'integration access tokens do not exist there; every call is a Bearer IMS token.',
};

const provider = (ctx: ContractContext) => ctx.probe.tokens as ImsTokenProvider | undefined;

export const IMS_CHECKS: Check[] = [
  {
    id: 'ims.token',
    category: 'ims',
    name: 'IMS issues an access token for the client credentials (client_credentials grant)',
    run: async (ctx): Promise<Outcome> => {
      const tokens = provider(ctx);
      const started = performance.now();
      try {
        await tokens!.token();
      } catch (error) {
        ctx.signingWorks = false;
        if (!(error instanceof ImsTokenError)) throw error;
        return {
          status: 'fail',
          detail: error.message,
          ...(error.imsError ? { storeSaid: error.imsError } : {}),
          cause:
            error.status === 0
              ? 'The IMS token endpoint could not be reached.'
              : 'IMS refused the client ID, secret or scopes.',
          fix: 'Copy the OAuth Server-to-Server credential again from the Adobe Developer Console; its scopes need commerce.accs.',
        };
      }
      const ms = Math.round(performance.now() - started);
      const expiresAt = tokens?.expiresAt;
      const hours = expiresAt ? ((expiresAt - Date.now()) / 3_600_000).toFixed(1) : '?';
      return { status: 'pass', detail: `A bearer token in ${ms} ms, valid for about ${hours} h.` };
    },
  },
  {
    id: 'ims.call',
    category: 'ims',
    name: 'GET V1/store/storeConfigs with the IMS Bearer token',
    needsSigning: true,
    run: async (ctx): Promise<Outcome> => {
      const answer = await ctx.probe.signed('GET', 'V1/store/storeConfigs');
      if (answer.status === 200) {
        ctx.granted.set('Magento_Backend::stores', true);
        return { status: 'pass', detail: `HTTP 200 in ${answer.ms} ms.` };
      }
      ctx.signingWorks = false;
      return {
        status: 'fail',
        detail: `HTTP ${answer.status} in ${answer.ms} ms.`,
        storeSaid: storeSaid(answer),
        cause:
          answer.status === 401
            ? 'The instance refused the token: another instance or organisation, or the technical account has no admin role there.'
            : answer.status === 404
              ? 'No REST API at this URL: the tenant id in --store is wrong.'
              : 'The instance failed or is unavailable.',
        fix: 'Use the REST base from the instance details (https://<region>.api.commerce.adobe.com/<tenant-id>/).',
      };
    },
  },
  {
    id: 'ims.bad-token',
    category: 'security',
    name: 'A wrong Bearer token is refused',
    needsSigning: true,
    run: async (ctx): Promise<Outcome> => {
      const answer = await ctx.probe.signed('GET', 'V1/store/storeConfigs', {
        authorization: `Bearer ${randomBytes(48).toString('base64url')}`,
      });
      return answer.status === 401
        ? { status: 'pass', detail: 'Refused with 401.', storeSaid: storeSaid(answer) }
        : {
            status: 'fail',
            detail: `INSECURE: a made-up Bearer token got HTTP ${answer.status}.`,
            cause: 'Something in front of the instance does not check tokens.',
          };
    },
  },
];

/** The checks of a Cloud Service run: the IMS ones after sign.sha256, the rest as they are or skipped. */
export function saasChecks(all: readonly Check[]): Check[] {
  return all.flatMap((check): Check[] => {
    const reason = NOT_FOR_SAAS[check.id];
    const kept: Check = reason
      ? {
          ...check,
          needsSigning: false,
          run: async () => ({
            status: 'skip',
            detail: `Does not apply to Adobe Commerce as a Cloud Service: ${reason}`,
          }),
        }
      : check;
    return check.id === 'sign.sha256' ? [kept, ...IMS_CHECKS] : [kept];
  });
}
