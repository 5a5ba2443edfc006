import express, { type Request, type Response, type Router } from 'express';
import type { IntegrationService } from './integrations.js';
import { toIncoming } from './oauth/incoming.js';
import { OauthProblem } from './oauth/problems.js';
import type { SignatureProfile } from './oauth/profile.js';
import type { OauthProvider } from './oauth/provider.js';
import type { OauthLogEntry, SimulatorState } from './state.js';

/** PHP http_build_query / urlencode: RFC 1738 style, spaces as `+`. */
export function httpBuildQuery(params: Record<string, string>): string {
  const enc = (s: string) =>
    encodeURIComponent(s)
      .replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
      .replace(/%20/g, '+');
  return Object.entries(params)
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
}

/**
 * `/request` and `/access`, mounted at `/oauth/token`. Any HTTP method is routed, as in Magento;
 * answers are form-encoded with Magento's text/html content type (contract §3.1, §3.2).
 */
export function tokenRoutes(deps: {
  state: SimulatorState;
  provider: OauthProvider;
  integrations: IntegrationService;
  profile: () => SignatureProfile;
}): Router {
  const router = express.Router();
  router.use(express.raw({ type: () => true, limit: '1mb' }));

  const handle = (endpoint: OauthLogEntry['endpoint']) => (req: Request, res: Response) => {
    const incoming = toIncoming(req, deps.profile());
    const p = incoming.view.protocol ?? {};
    const entry = {
      endpoint,
      method: req.method,
      url: req.originalUrl,
      consumerKey: p.oauth_consumer_key ?? null,
      nonce: p.oauth_nonce ?? null,
      signatureMethod: p.oauth_signature_method ?? null,
    };
    res.type('text/html; charset=UTF-8');
    try {
      let body: Record<string, string>;
      if (endpoint === 'request_token') {
        body = deps.provider.getRequestToken(incoming);
      } else {
        const { consumer, ...tokens } = deps.provider.getAccessToken(incoming);
        deps.integrations.markActive(consumer.id);
        body = tokens;
      }
      deps.state.log({ ...entry, outcome: 'verified', status: 200, reason: null });
      res.status(200).send(httpBuildQuery(body));
    } catch (error) {
      const problem = error instanceof OauthProblem ? error : null;
      const status = problem?.status ?? 500;
      const text = problem
        ? problem.message
        : `internal_error&message=${error instanceof Error && error.message ? error.message : 'empty_message'}`;
      deps.state.log({ ...entry, outcome: 'rejected', status, reason: text });
      res.status(status).send(httpBuildQuery({ oauth_problem: text }));
    }
  };

  router.all('/request', handle('request_token'));
  router.all('/access', handle('access_token'));
  return router;
}
