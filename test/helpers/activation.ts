import { adminJson } from './http.js';
import { parseForm, signedRequest, type Credentials } from './oauth-client.js';
import type { startCallbackServer } from './callback-server.js';

type CallbackServer = Awaited<ReturnType<typeof startCallbackServer>>;

export interface IntegrationView {
  id: number;
  name: string;
  status: number;
  status_label: string;
  consumer_key: string;
  consumer_secret: string;
}

let counter = 0;

export async function createIntegration(
  base: string,
  callback: CallbackServer,
  extra: Record<string, unknown> = {},
): Promise<IntegrationView> {
  const res = await adminJson<IntegrationView>(base, 'POST', '/integrations', {
    name: `Test integration ${++counter}`,
    email: 'dev@example.com',
    endpoint_url: callback.url,
    identity_link_url: 'http://127.0.0.1:9/magento/identity',
    resources: ['Magento_Catalog::products', 'Magento_Backend::stores'],
    ...extra,
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Activate and return what the store POSTed to the endpoint (consumer key/secret, verifier). */
export async function activate(base: string, callback: CallbackServer, id: number, reauthorize = false) {
  const before = callback.received.length;
  const res = await adminJson<{ popup?: { url: string } }>(
    base,
    'POST',
    `/integrations/${id}/${reauthorize ? 'reauthorize' : 'activate'}`,
  );
  if (res.status !== 200) throw new Error(`activate failed: ${res.status} ${JSON.stringify(res.body)}`);
  const posted = callback.received[before];
  if (!posted) throw new Error('the store did not POST to the endpoint URL');
  return { result: res.body, fields: posted.fields };
}

/** Request token then access token, as an integrator does after the callback. */
export async function exchange(base: string, fields: Record<string, string>): Promise<Credentials> {
  const consumer = {
    consumerKey: fields.oauth_consumer_key as string,
    consumerSecret: fields.oauth_consumer_secret as string,
  };
  const req = await signedRequest(base, consumer, { method: 'POST', path: '/oauth/token/request' });
  if (req.status !== 200) throw new Error(`request token: ${req.status} ${req.body}`);
  const request = parseForm(req.body);
  const acc = await signedRequest(
    base,
    { ...consumer, token: request.oauth_token, tokenSecret: request.oauth_token_secret },
    {
      method: 'POST',
      path: '/oauth/token/access',
      extraOauth: { oauth_verifier: fields.oauth_verifier as string },
    },
  );
  if (acc.status !== 200) throw new Error(`access token: ${acc.status} ${acc.body}`);
  const access = parseForm(acc.body);
  return { ...consumer, token: access.oauth_token, tokenSecret: access.oauth_token_secret };
}
