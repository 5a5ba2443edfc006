import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { activate, createIntegration, exchange } from '../helpers/activation.js';
import type { CallbackServer } from '../helpers/callback-server.js';
import { startStoreAndEndpoint } from '../helpers/simulator.js';
import { adminJson, rawRequest } from '../helpers/http.js';
import { nonce, parseForm, signedRequest, type Credentials } from '../helpers/oauth-client.js';

/** A signature that always differs from the real one (a changed first character would not, 1 time in 64). */
const flipFirstByte = (signature: string) => {
  const bytes = Buffer.from(signature, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  return bytes.toString('base64');
};

let sim: RunningSimulator;
let callback: CallbackServer;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ sim, callback, close } = await startStoreAndEndpoint({ products: 20, customers: 5, orders: 5 }));
});
afterAll(() => close());

/** A fresh integration, activated; the consumer credentials the store posted. */
async function activated(extra: Record<string, unknown> = {}) {
  const integration = await createIntegration(sim.url, callback, extra);
  const { fields } = await activate(sim.url, callback, integration.id);
  const consumer: Credentials = {
    consumerKey: fields.oauth_consumer_key!,
    consumerSecret: fields.oauth_consumer_secret!,
  };
  return { integration, fields, consumer };
}

const problem = (body: string) => parseForm(body).oauth_problem;
const requestToken = (
  consumer: Credentials,
  extra: Parameters<typeof signedRequest>[2] = { method: 'POST', path: '' },
) => signedRequest(sim.url, consumer, { ...extra, method: 'POST', path: '/oauth/token/request' });

describe('token endpoint refusals, with Magento status and oauth_problem', () => {
  it('refuses a tampered signature (401)', async () => {
    const { consumer } = await activated();
    const res = await requestToken(consumer, { method: 'POST', path: '', tamper: flipFirstByte });
    expect(res.status).toBe(401);
    expect(res.body).toBe('oauth_problem=The+signature+is+invalid.+Verify+and+try+again.');
  });

  it('refuses a signature made with the wrong consumer secret (401)', async () => {
    const { consumer } = await activated();
    const res = await requestToken(consumer, {
      method: 'POST',
      path: '',
      signWithConsumerSecret: 'not-the-secret',
    });
    expect(res.status).toBe(401);
    expect(problem(res.body)).toBe('The signature is invalid. Verify and try again.');
  });

  it('refuses a reused nonce, even when the first use had a bad signature (401)', async () => {
    const { consumer, integration } = await activated();
    const n = nonce();
    const first = await requestToken(consumer, { method: 'POST', path: '', nonce: n, tamper: () => 'bad' });
    expect(problem(first.body)).toBe('The signature is invalid. Verify and try again.');
    const second = await requestToken(consumer, { method: 'POST', path: '', nonce: n });
    expect(second.status).toBe(401);
    const shown = await adminJson<{ consumer_id: number }>(sim.url, 'GET', `/integrations/${integration.id}`);
    expect(problem(second.body)).toBe(
      `The nonce is already being used by the consumer with ID ${shown.body.consumer_id}`,
    );
  });

  it('refuses a timestamp more than 600 s ahead (400) but accepts an old one', async () => {
    const { consumer } = await activated();
    const now = Math.floor(Date.now() / 1000);
    const ahead = await requestToken(consumer, { method: 'POST', path: '', timestamp: now + 700 });
    expect(ahead.status).toBe(400);
    expect(problem(ahead.body)).toBe('Incorrect timestamp value in the oauth_timestamp parameter');
    const old = await requestToken(consumer, { method: 'POST', path: '', timestamp: now - 30 * 86400 });
    expect(old.status).toBe(200);
  });

  it('refuses HMAC-SHA1 on a 2.4.4+ store before checking the signature (400)', async () => {
    const { consumer } = await activated();
    const res = await requestToken(consumer, { method: 'POST', path: '', signatureMethod: 'HMAC-SHA1' });
    expect(res.status).toBe(400);
    expect(problem(res.body)).toBe('Signature method HMAC-SHA1 is not supported');
  });

  it('refuses a wrong verifier (401)', async () => {
    const { consumer } = await activated();
    const req = parseForm((await requestToken(consumer)).body);
    const res = await signedRequest(
      sim.url,
      { ...consumer, token: req.oauth_token, tokenSecret: req.oauth_token_secret },
      { method: 'POST', path: '/oauth/token/access', extraOauth: { oauth_verifier: 'a'.repeat(32) } },
    );
    expect(res.status).toBe(401);
    expect(problem(res.body)).toBe('Token verifier and verifier token do not match');
  });

  it('refuses a second request token and a reused request token (401)', async () => {
    const { consumer, fields } = await activated();
    expect((await requestToken(consumer)).status).toBe(200);
    const again = await requestToken(consumer);
    expect(again.status).toBe(401);
    expect(problem(again.body)).toBe(
      'Cannot create request token because consumer token is not a verifier token',
    );

    const other = await activated();
    const req = parseForm((await requestToken(other.consumer)).body);
    const withRequest = { ...other.consumer, token: req.oauth_token, tokenSecret: req.oauth_token_secret };
    const verifier = { oauth_verifier: other.fields.oauth_verifier! };
    const first = await signedRequest(sim.url, withRequest, {
      method: 'POST',
      path: '/oauth/token/access',
      extraOauth: verifier,
    });
    expect(first.status).toBe(200);
    const replay = await signedRequest(sim.url, withRequest, {
      method: 'POST',
      path: '/oauth/token/access',
      extraOauth: verifier,
    });
    expect(replay.status).toBe(401);
    expect(problem(replay.body)).toBe('Specified token does not exist');
    expect(fields.oauth_verifier).not.toBe(other.fields.oauth_verifier);
  });

  it('refuses an access token at the access-token endpoint (401)', async () => {
    const { fields } = await activated();
    const creds = await exchange(sim.url, fields);
    const res = await signedRequest(sim.url, creds, {
      method: 'POST',
      path: '/oauth/token/access',
      extraOauth: { oauth_verifier: fields.oauth_verifier! },
    });
    expect(res.status).toBe(401);
    expect(problem(res.body)).toBe('Token is already being used');
  });

  it('lists every missing protocol parameter without an OAuth header (400)', async () => {
    const res = await rawRequest(sim.url, { method: 'POST', path: '/oauth/token/request' });
    expect(res.status).toBe(400);
    expect(problem(res.body)).toBe(
      ['oauth_consumer_key', 'oauth_signature', 'oauth_signature_method', 'oauth_nonce', 'oauth_timestamp']
        .map((n) => `"${n}" is required. Enter and try again`)
        .join(', '),
    );
  });

  it('refuses an unknown consumer key (401) and a short one (401)', async () => {
    const unknown = await requestToken({ consumerKey: 'b'.repeat(32), consumerSecret: 'x' });
    expect(unknown.status).toBe(401);
    expect(problem(unknown.body)).toBe('A consumer having the specified key does not exist');
    const short = await requestToken({ consumerKey: 'short', consumerSecret: 'x' });
    expect(problem(short.body)).toBe('Consumer key is not the correct length');
  });
});

describe('signed REST refusals', () => {
  const aclMessage = "The consumer isn't authorized to access %resources.";

  it('refuses an ungranted ACL resource with the 401 JSON message', async () => {
    const { fields } = await activated({ resources: ['Magento_Catalog::products'] });
    const creds = await exchange(sim.url, fields);
    expect((await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/products' })).status).toBe(
      200,
    );
    const res = await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/orders' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({
      message: aclMessage,
      parameters: { resources: 'Magento_Sales::actions_view' },
    });
  });

  it('refuses the token of a deleted integration', async () => {
    const { fields, integration } = await activated();
    const creds = await exchange(sim.url, fields);
    expect((await adminJson(sim.url, 'DELETE', `/integrations/${integration.id}`)).status).toBe(204);
    const res = await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/products' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).message).toBe('A consumer having the specified key does not exist');
  });

  it('deletes the old access token at once on Reauthorize, and the new one works', async () => {
    const { fields, integration } = await activated();
    const old = await exchange(sim.url, fields);
    const { fields: again } = await activate(sim.url, callback, integration.id, true);
    expect(again.oauth_consumer_key).toBe(fields.oauth_consumer_key);
    expect(again.oauth_verifier).not.toBe(fields.oauth_verifier);
    const refused = await signedRequest(sim.url, old, { method: 'GET', path: '/rest/V1/products' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).message).toBe('Specified token does not exist');
    const fresh = await exchange(sim.url, again);
    expect((await signedRequest(sim.url, fresh, { method: 'GET', path: '/rest/V1/products' })).status).toBe(
      200,
    );
  });

  it('re-creates a reset integration with new credentials; the old token loses access', async () => {
    const { fields, integration } = await activated();
    const old = await exchange(sim.url, fields);
    const reset = await adminJson<{ id: number; consumer_key: string; status_label: string }>(
      sim.url,
      'POST',
      `/integrations/${integration.id}/reset`,
    );
    expect(reset.body.id).not.toBe(integration.id);
    expect(reset.body.consumer_key).not.toBe(fields.oauth_consumer_key);
    expect(reset.body.status_label).toMatch(/^Reset/);
    const res = await signedRequest(sim.url, old, { method: 'GET', path: '/rest/V1/products' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).message).toBe(aclMessage);
  });

  it('refuses Bearer use of an integration token unless enabled', async () => {
    const { fields } = await activated();
    const creds = await exchange(sim.url, fields);
    const bearer = { authorization: `Bearer ${creds.token}` };
    const refused = await rawRequest(sim.url, {
      method: 'GET',
      path: '/rest/V1/store/storeConfigs',
      headers: bearer,
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      message: aclMessage,
      parameters: { resources: 'Magento_Backend::stores' },
    });
    await adminJson(sim.url, 'PUT', '/settings', { bearer: true });
    try {
      const allowed = await rawRequest(sim.url, {
        method: 'GET',
        path: '/rest/V1/store/storeConfigs',
        headers: bearer,
      });
      expect(allowed.status).toBe(200);
    } finally {
      await adminJson(sim.url, 'PUT', '/settings', { bearer: false });
    }
  });

  it('answers 400 for a malformed access token and refuses a nonce reused on REST', async () => {
    const { fields } = await activated();
    const creds = await exchange(sim.url, fields);
    const bad = await signedRequest(
      sim.url,
      { ...creds, token: 'short' },
      { method: 'GET', path: '/rest/V1/products' },
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toBe('The token length is invalid. Check the length and try again.');
    const n = nonce();
    expect(
      (await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/products', nonce: n })).status,
    ).toBe(200);
    const replay = await signedRequest(sim.url, creds, {
      method: 'GET',
      path: '/rest/V1/products',
      nonce: n,
    });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.body).message).toBe(
      'The nonce is already being used by the consumer with ID %1',
    );
  });

  it('refuses a GET on store code all and unknown routes', async () => {
    const { fields } = await activated();
    const creds = await exchange(sim.url, fields);
    const all = await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/all/V1/products' });
    expect(all.status).toBe(400);
    expect(JSON.parse(all.body).message).toBe("Cannot perform GET operation with store code 'all'");
    const none = await signedRequest(sim.url, creds, { method: 'GET', path: '/rest/V1/nothing-here' });
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body).message).toBe('Request does not match any route.');
  });
});

describe('consumer key expiry', () => {
  it('refuses the request token 300 s after the callback POST, and only then', async () => {
    const { consumer } = await activated();
    await adminJson(sim.url, 'POST', '/clock/advance', { seconds: 299 });
    const inTime = await activated();
    expect((await requestToken(inTime.consumer)).status).toBe(200);
    await adminJson(sim.url, 'POST', '/clock/advance', { seconds: 2 });
    const res = await requestToken(consumer);
    expect(res.status).toBe(401);
    expect(problem(res.body)).toBe('Consumer key has expired');
  });
});
