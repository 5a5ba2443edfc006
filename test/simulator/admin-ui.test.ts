import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createSimulator, type Simulator } from '../../src/simulator/app.js';

const CALLBACK_FAILED =
  'The attempt to post data to consumer failed due to an unexpected error. Please try again later.';
const TOKEN = /^[0-9a-z]{32}$/;

function newSim(): Simulator {
  return createSimulator({ products: 20, customers: 5, orders: 5, callbackTimeoutMs: 2000 });
}

async function formKeyOf(sim: Simulator): Promise<string> {
  const res = await request(sim.app).get('/admin/integrations').expect(200);
  const match = /name="form_key" value="([0-9a-f]+)"|name="form-key" content="([0-9a-f]+)"/.exec(res.text);
  const key = match?.[1] ?? match?.[2];
  if (!key) throw new Error('no form key on the grid');
  return key;
}

async function createViaApi(sim: Simulator, body: Record<string, unknown>): Promise<number> {
  const res = await request(sim.app).post('/admin/api/integrations').send(body).expect(201);
  return (res.body as { id: number }).id;
}

/** A stand-in integrator endpoint that records the store's callback POSTs. */
interface Endpoint {
  url: string;
  posts: { contentType: string | undefined; body: string }[];
  close: () => Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  const posts: Endpoint['posts'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      posts.push({ contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    posts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('admin UI: pages and form key', () => {
  it('answers the store base URL with a storefront page that links to the admin', async () => {
    const sim = newSim();
    const res = await request(sim.app).get('/').expect(200);
    expect(res.text).toContain('href="/admin/integrations"');
  });

  it('lists an integration with its status, the right action and a strict CSP', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, {
      name: 'Acme Connector',
      email: 'ops@acme.test',
      endpoint_url: 'https://acme.test/cb',
      identity_link_url: 'https://acme.test/id',
    });
    const res = await request(sim.app).get('/admin/integrations').expect(200);
    expect(res.text).toContain('Acme Connector');
    expect(res.text).toContain('ops@acme.test');
    expect(res.text).toContain('https://acme.test/cb');
    expect(res.text).toContain('https://acme.test/id');
    expect(res.text).toContain('>Inactive<');
    expect(res.text).toContain(`href="/admin/integrations/${id}/permissions">Activate</a>`);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.text).not.toMatch(/<script>(?!<\/script>)/);

    sim.integrations.get(id).status = 1;
    const active = await request(sim.app).get('/admin/integrations').expect(200);
    expect(active.text).toContain('>Active<');
    expect(active.text).toContain(`href="/admin/integrations/${id}/permissions">Reauthorize</a>`);
  });

  it('escapes user data in the grid and the permissions page', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, { name: '<script>x</script>' });
    const grid = await request(sim.app).get('/admin/integrations').expect(200);
    expect(grid.text).not.toContain('<script>x</script>');
    expect(grid.text).toContain('&lt;script&gt;x&lt;/script&gt;');
    const perms = await request(sim.app).get(`/admin/integrations/${id}/permissions`).expect(200);
    expect(perms.text).not.toContain('<script>x</script>');
    expect(perms.text).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('serves the static script and stylesheet', async () => {
    const sim = newSim();
    const js = await request(sim.app).get('/admin/static/integrations.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.text).toContain("'integration-identity-link'");
    await request(sim.app).get('/admin/static/admin.css').expect(200).expect('content-type', /css/);
    await request(sim.app).get('/admin/static/nope.js').expect(404);
  });

  it('rejects POSTs without or with a wrong form_key', async () => {
    const sim = newSim();
    const form = { name: 'No Key', resource_access: 'all' };
    const missing = await request(sim.app).post('/admin/integrations').type('form').send(form).expect(403);
    expect(missing.text).toContain('Invalid form key');
    await request(sim.app)
      .post('/admin/integrations')
      .type('form')
      .send({ ...form, form_key: 'f'.repeat(32) })
      .expect(403);
    await request(sim.app)
      .post('/admin/integrations/1/tokens-exchange')
      .set('Accept', 'application/json')
      .set('X-Form-Key', 'wrong')
      .type('form')
      .send({ reauthorize: '0' })
      .expect(403);
    expect(sim.integrations.list()).toHaveLength(0);

    const key = await formKeyOf(sim);
    await request(sim.app)
      .post('/admin/integrations')
      .type('form')
      .send({ ...form, form_key: key })
      .expect(303);
    expect(sim.integrations.list().map((i) => i.name)).toEqual(['No Key']);
  });

  it('uses one form key per simulator instance', async () => {
    const a = await formKeyOf(newSim());
    const b = await formKeyOf(newSim());
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  it('answers 404 for an unknown integration id', async () => {
    const sim = newSim();
    const key = await formKeyOf(sim);
    await request(sim.app).get('/admin/integrations/999/permissions').expect(404);
    await request(sim.app).get('/admin/integrations/abc/permissions').expect(404);
    await request(sim.app)
      .post('/admin/integrations/999/delete')
      .type('form')
      .send({ form_key: key })
      .expect(404);
  });

  it('serves the success callback page with and without the trailing slash', async () => {
    const sim = newSim();
    for (const path of [
      '/admin/admin/integration/loginSuccessCallback/',
      '/admin/admin/integration/loginSuccessCallback',
    ]) {
      const res = await request(sim.app).get(path).expect(200);
      expect(res.text).toContain('<script src="/admin/static/login-success.js"');
      expect(res.text).toContain('Integration activated. This window closes itself.');
    }
    const script = await request(sim.app).get('/admin/static/login-success.js').expect(200);
    expect(script.text).toMatch(/window\.close\(\)[\s\S]*1000/);
  });
});

describe('admin UI: new integration form', () => {
  it('renders the resource tree from the ACL', async () => {
    const sim = newSim();
    const res = await request(sim.app).get('/admin/integrations/new').expect(200);
    expect(res.text).toContain('Callback URL');
    expect(res.text).toContain('value="Magento_Sales::sales_order"');
    expect(res.text).toContain('value="Magento_Catalog::products"');
    expect(res.text).toMatch(/name="resource_access" value="all"/);
  });

  it('saves a custom-resource integration exactly as posted', async () => {
    const sim = newSim();
    const key = await formKeyOf(sim);
    const res = await request(sim.app)
      .post('/admin/integrations')
      .type('form')
      .send(
        'form_key=' +
          key +
          '&name=Posted&email=&endpoint_url=&identity_link_url=&resource_access=custom' +
          '&resources=Magento_Sales%3A%3Asales&resources=Magento_Sales%3A%3Asales_order',
      )
      .expect(303);
    const grid = await request(sim.app).get(String(res.headers.location)).expect(200);
    expect(grid.text).toContain('The integration &#39;Posted&#39; has been saved.');
    const [saved] = sim.integrations.list();
    expect(saved?.allResources).toBe(false);
    expect(saved?.resources).toEqual(['Magento_Sales::sales', 'Magento_Sales::sales_order']);
    // The flash is shown once.
    const again = await request(sim.app).get(String(res.headers.location)).expect(200);
    expect(again.text).not.toContain('has been saved');
  });

  it('rejects a bad URL with 400, the message and the entered values', async () => {
    const sim = newSim();
    const key = await formKeyOf(sim);
    const res = await request(sim.app)
      .post('/admin/integrations')
      .type('form')
      .send({
        form_key: key,
        name: 'Keep "this" name',
        endpoint_url: 'ftp://nope',
        resource_access: 'custom',
        resources: 'Magento_Catalog::products',
      })
      .expect(400);
    expect(res.text).toContain('endpoint_url must be an http(s) URL');
    expect(res.text).toContain('value="Keep &#34;this&#34; name"');
    expect(res.text).toContain('value="ftp://nope"');
    expect(res.text).toMatch(/value="Magento_Catalog::products" checked/);
    expect(sim.integrations.list()).toHaveLength(0);
  });

  it('ignores a flash id it did not issue', async () => {
    const sim = newSim();
    const res = await request(sim.app).get('/admin/integrations?message=%3Cb%3Ehi%3C%2Fb%3E').expect(200);
    expect(res.text).not.toContain('<b>hi</b>');
    expect(res.text).not.toContain('&lt;b&gt;hi');
  });
});

describe('admin UI: activation', () => {
  it('manual flow: the permissions page posts to tokens and shows four credentials, then the grid shows Active', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, { name: 'Manual', resources: ['Magento_Catalog::products'] });
    const perms = await request(sim.app).get(`/admin/integrations/${id}/permissions`).expect(200);
    expect(perms.text).toContain(`action="/admin/integrations/${id}/tokens"`);
    expect(perms.text).toContain('data-flow="tokens"');
    expect(perms.text).toContain('Products');
    expect(perms.text).toMatch(/<button type="submit" class="button primary">Allow<\/button>/);

    const key = await formKeyOf(sim);
    const res = await request(sim.app)
      .post(`/admin/integrations/${id}/tokens`)
      .type('form')
      .send({ form_key: key, reauthorize: '0' })
      .expect(200);
    const codes = [...res.text.matchAll(/<dd><code>([^<]*)<\/code><\/dd>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(4);
    for (const code of codes) expect(code).toMatch(TOKEN);
    expect(new Set(codes).size).toBe(4);
    for (const label of ['Consumer Key', 'Consumer Secret', 'Access Token', 'Access Token Secret']) {
      expect(res.text).toContain(`<dt>${label}</dt>`);
    }
    const consumer = sim.integrations.consumerOf(sim.integrations.get(id));
    expect(codes[0]).toBe(consumer.key);
    expect(codes[1]).toBe(consumer.secret);
    expect(res.text).toMatch(/href="\/admin\/integrations">Done<\/a>/);
    expect(res.headers['cache-control']).toBe('no-store');

    const grid = await request(sim.app).get('/admin/integrations').expect(200);
    expect(grid.text).toContain('>Active<');
    expect(grid.text).toContain(`/permissions">Reauthorize</a>`);
  });

  it('exchange flow: a refused callback returns the failure message and steps, and no popup', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, {
      name: 'Refused',
      endpoint_url: 'http://127.0.0.1:1/',
      identity_link_url: 'http://127.0.0.1:1/identity',
    });
    const perms = await request(sim.app).get(`/admin/integrations/${id}/permissions`).expect(200);
    expect(perms.text).toContain(`action="/admin/integrations/${id}/tokens-exchange"`);
    expect(perms.text).toContain('data-flow="exchange"');
    const key = await formKeyOf(sim);

    const json = await request(sim.app)
      .post(`/admin/integrations/${id}/tokens-exchange`)
      .set('Accept', 'application/json')
      .set('X-Form-Key', key)
      .type('form')
      .send({ reauthorize: '0' })
      .expect(502);
    const body = json.body as {
      error: string;
      steps: { step: string; ok: boolean }[];
      popup_url?: string;
      _redirect: string;
    };
    expect(body.error).toBe(CALLBACK_FAILED);
    expect(body.popup_url).toBeUndefined();
    expect(body.steps.find((s) => s.step === 'callback_post')?.ok).toBe(false);
    expect(body.steps.some((s) => s.step === 'popup')).toBe(false);
    // integration.js follows _redirect: the grid then shows the message and the steps once.
    const grid = await request(sim.app).get(body._redirect).expect(200);
    expect(grid.text).toContain(CALLBACK_FAILED);
    expect(grid.text).toContain('callback_post');

    // Without JavaScript the grid is rendered straight away with the error.
    const html = await request(sim.app)
      .post(`/admin/integrations/${id}/tokens-exchange`)
      .type('form')
      .send({ form_key: key, reauthorize: '0' })
      .expect(502);
    expect(html.text).toContain(CALLBACK_FAILED);
    expect(html.text).toContain('http://127.0.0.1:1/');
    expect(html.text).not.toContain('Open identity link');
    expect(sim.integrations.get(id).status).toBe(0);
  });

  describe('against a listening endpoint', () => {
    let endpoint: Endpoint;
    beforeAll(async () => {
      endpoint = await startEndpoint();
    });
    afterAll(async () => {
      await endpoint.close();
    });

    it('posts the four fields, then returns the popup data built by the service', async () => {
      const sim = newSim();
      const identity = 'http://127.0.0.1:9/identity';
      const id = await createViaApi(sim, {
        name: 'Exchange',
        endpoint_url: endpoint.url,
        identity_link_url: identity,
      });
      const key = await formKeyOf(sim);
      const before = endpoint.posts.length;

      const res = await request(sim.app)
        .post(`/admin/integrations/${id}/tokens-exchange`)
        .set('Accept', 'application/json')
        .set('X-Form-Key', key)
        .type('form')
        .send({ reauthorize: '0' })
        .expect(200);
      const body = res.body as Record<string, string>;
      const consumer = sim.integrations.consumerOf(sim.integrations.get(id));
      expect(body.identity_link_url).toBe(identity);
      expect(body.oauth_consumer_key).toBe(consumer.key);
      expect(body.popup_content).toBe("Integration 'Exchange' has been sent for activation.");
      expect(body.popup_url?.startsWith(`${identity}?oauth_consumer_key=${consumer.key}&`)).toBe(true);
      expect(body.popup_url).toContain('success_call_back=');
      const success = new URL(String(body.popup_url)).searchParams.get('success_call_back');
      expect(success).toBe('http://127.0.0.1:3100/admin/admin/integration/loginSuccessCallback/');

      expect(endpoint.posts).toHaveLength(before + 1);
      const post = endpoint.posts[before];
      expect(post?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      const fields = new URLSearchParams(post?.body);
      expect([...fields.keys()].sort()).toEqual(
        ['oauth_consumer_key', 'oauth_consumer_secret', 'oauth_verifier', 'store_base_url'].sort(),
      );
      expect(fields.get('oauth_consumer_key')).toBe(consumer.key);
      expect(fields.get('oauth_consumer_secret')).toBe(consumer.secret);
      expect(fields.get('oauth_verifier')).toMatch(TOKEN);
      expect(fields.get('store_base_url')).toBe('http://127.0.0.1:3100/');
      // Active only once the integrator exchanges the verifier, not when the popup opens.
      expect(sim.integrations.get(id).status).toBe(0);
    });

    it('without JavaScript renders a page linking to the popup URL, and reauthorizes when asked', async () => {
      const sim = newSim();
      const id = await createViaApi(sim, {
        name: 'NoJs',
        endpoint_url: endpoint.url,
        identity_link_url: 'http://127.0.0.1:9/identity?x=1&y=2',
      });
      sim.integrations.get(id).status = 1;
      const perms = await request(sim.app).get(`/admin/integrations/${id}/permissions`).expect(200);
      expect(perms.text).toContain('name="reauthorize" value="1"');
      expect(perms.text).toMatch(/<button type="submit" class="button primary">Reauthorize<\/button>/);

      const key = await formKeyOf(sim);
      const res = await request(sim.app)
        .post(`/admin/integrations/${id}/tokens-exchange`)
        .type('form')
        .send({ form_key: key, reauthorize: '1' })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/html/);
      expect(res.text).toContain('sent for re-authorization');
      const link =
        /<a class="button primary" href="([^"]+)" target="_blank" rel="noopener">Open identity link<\/a>/.exec(
          res.text,
        );
      // The identity link keeps its own query and Magento still appends `?`; `&` is escaped in HTML.
      expect(link?.[1]).toMatch(
        /^http:\/\/127\.0\.0\.1:9\/identity\?x=1&amp;y=2\?oauth_consumer_key=[0-9a-z]{32}&amp;success_call_back=/,
      );
      expect(res.text).toContain('href="/admin/integrations"');
      // Reauthorize drops the token and sets the integration back to Inactive until the new exchange.
      expect(sim.integrations.get(id).status).toBe(0);
    });

    it('refuses the exchange route for a manual integration and the tokens route for an exchange one', async () => {
      const sim = newSim();
      const manual = await createViaApi(sim, { name: 'Manual only' });
      const exchange = await createViaApi(sim, {
        name: 'Exchange only',
        endpoint_url: endpoint.url,
        identity_link_url: 'http://127.0.0.1:9/',
      });
      const key = await formKeyOf(sim);
      await request(sim.app)
        .post(`/admin/integrations/${manual}/tokens-exchange`)
        .type('form')
        .send({ form_key: key })
        .expect(400);
      await request(sim.app)
        .post(`/admin/integrations/${exchange}/tokens`)
        .type('form')
        .send({ form_key: key })
        .expect(400);
      expect(sim.integrations.get(manual).status).toBe(0);
    });
  });

  it('reset re-creates the integration with new credentials and delete removes it', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, { name: 'Config one' });
    const oldKey = sim.integrations.consumerOf(sim.integrations.get(id)).key;
    const key = await formKeyOf(sim);
    const reset = await request(sim.app)
      .post(`/admin/integrations/${id}/reset`)
      .type('form')
      .send({ form_key: key })
      .expect(303);
    const [fresh] = sim.integrations.list();
    expect(fresh?.id).not.toBe(id);
    expect(sim.integrations.consumerOf(fresh!).key).not.toBe(oldKey);
    const grid = await request(sim.app).get(String(reset.headers.location)).expect(200);
    expect(grid.text).toContain('Reset (reauthorize needed)');
    expect(grid.text).toContain(`/admin/integrations/${fresh!.id}/permissions">Reauthorize</a>`);

    const del = await request(sim.app)
      .post(`/admin/integrations/${fresh!.id}/delete`)
      .type('form')
      .send({ form_key: key })
      .expect(303);
    const after = await request(sim.app).get(String(del.headers.location)).expect(200);
    expect(after.text).toContain('has been deleted');
    expect(sim.integrations.list()).toHaveLength(0);
  });

  it('shows an AdminError on the grid with its status (config integrations cannot be deleted)', async () => {
    const sim = newSim();
    const id = await createViaApi(sim, { name: 'From module', setup_type: 'config' });
    const key = await formKeyOf(sim);
    const res = await request(sim.app)
      .post(`/admin/integrations/${id}/delete`)
      .type('form')
      .send({ form_key: key })
      .expect(409);
    expect(res.text).toContain('Uninstall the extension to remove integration &#39;From module&#39;.');
    expect(res.text).toContain('<table class="grid">');
    expect(sim.integrations.list()).toHaveLength(1);
  });
});
