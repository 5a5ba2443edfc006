import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ACL_TREE } from '../acl.js';
import type { Catalog } from '../catalog/catalog.js';
import type { SimClock } from '../clock.js';
import type { Faults } from '../faults.js';
import { ImsProblem, type ImsService } from '../ims/ims.js';
import { AdminError } from '../admin-error.js';
import type { IntegrationService } from '../integrations.js';
import type { SimulatorSettings } from '../settings.js';
import type { SimulatorState } from '../state.js';
import { parseIntegrationXml, parseLegacyXml } from '../import-xml.js';
import { integrationJson } from './views.js';
import type { WebhookSender } from '../webhooks/webhook-sender.js';
import { webhookAdminApi } from '../webhooks/admin-api.js';

export interface AdminApiDeps {
  state: SimulatorState;
  integrations: IntegrationService;
  catalog: Catalog;
  faults: Faults;
  settings: SimulatorSettings;
  clock: SimClock;
  webhooks: WebhookSender;
  ims: ImsService;
  adminToken?: string;
}

/** The JSON admin API for scripts and tests: integrations, settings, faults and inspection. */
export function adminApi(deps: AdminApiDeps): Router {
  const { integrations, state } = deps;
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  router.use(guard(deps.adminToken));

  const id = (req: Request) => {
    const n = Number(req.params.id);
    if (!Number.isInteger(n) || n <= 0)
      throw new AdminError('Integration id must be a positive integer.', 400);
    return n;
  };
  const show = (integrationId: number) => {
    const integration = integrations.get(integrationId);
    return integrationJson(integration, state.consumers.get(integration.consumerId));
  };

  router.get('/integrations', (_req, res) => {
    res.json(integrations.list().map((i) => integrationJson(i, state.consumers.get(i.consumerId))));
  });
  router.post('/integrations', (req, res) => {
    const { integration } = integrations.create(req.body);
    res.status(201).json(show(integration.id));
  });
  // A module's integration XML, as `bin/magento setup:upgrade` would apply it.
  router.post('/integrations/import', (req, res) => {
    const body = z
      .object({
        integration_xml: z.string().max(200_000).optional(),
        config_xml: z.string().max(200_000).optional(),
        api_xml: z.string().max(200_000).optional(),
      })
      .strict()
      .refine((b) => (b.integration_xml ? !b.config_xml && !b.api_xml : b.config_xml && b.api_xml), {
        message: 'send integration_xml, or config_xml together with api_xml',
      })
      .parse(req.body);
    const results = body.integration_xml
      ? integrations.importDeclared(parseIntegrationXml(body.integration_xml), 'consolidated')
      : integrations.importDeclared(
          parseLegacyXml(body.config_xml as string, body.api_xml as string),
          'legacy',
        );
    res.json(results.map((r) => ({ ...r, integration: show(r.id) })));
  });
  router.get('/integrations/:id', (req, res) => {
    res.json(show(id(req)));
  });
  router.post('/integrations/:id/activate', async (req, res) => {
    const result = await integrations.activate(id(req), false);
    res.json({ integration: show(id(req)), ...result });
  });
  router.post('/integrations/:id/reauthorize', async (req, res) => {
    const result = await integrations.activate(id(req), true);
    res.json({ integration: show(id(req)), ...result });
  });
  router.post('/integrations/:id/reset', (req, res) => {
    const { integration } = integrations.reset(id(req));
    res.json(show(integration.id));
  });
  router.delete('/integrations/:id', (req, res) => {
    integrations.delete(id(req));
    res.status(204).end();
  });

  // IMS OAuth Server-to-Server credentials (the Developer Console's part of a Cloud Service setup).
  router.get('/ims/clients', (_req, res) => {
    res.json(
      [...deps.ims.clients.values()].map((c) => ({
        client_id: c.clientId,
        created_at: c.createdAt.toISOString(),
        tokens_issued: c.tokensIssued,
      })),
    );
  });
  router.post('/ims/clients', (req, res) => {
    const body = z
      .object({
        client_id: z
          .string()
          .regex(/^[A-Za-z0-9_-]{8,64}$/, 'client_id must be 8-64 letters, digits, - or _')
          .optional(),
        client_secret: z.string().min(16, 'client_secret must be at least 16 characters').max(256).optional(),
      })
      .strict()
      .parse(req.body);
    try {
      const c = deps.ims.register(body.client_id, body.client_secret);
      res.status(201).json({ client_id: c.clientId, client_secret: c.clientSecret });
    } catch (error) {
      if (error instanceof ImsProblem) throw new AdminError(error.description, error.status);
      throw error;
    }
  });
  router.delete('/ims/clients/:clientId', (req, res) => {
    if (!deps.ims.remove(String(req.params.clientId))) throw new AdminError('No such IMS client.', 404);
    res.status(204).end();
  });
  router.put('/ims/settings', (req, res) => {
    const body = z
      .object({
        token_seconds: z
          .number()
          .int()
          .min(1)
          .max(7 * 86_400),
      })
      .strict()
      .parse(req.body);
    deps.ims.tokenSeconds = body.token_seconds;
    res.json({ token_seconds: deps.ims.tokenSeconds });
  });
  router.post('/ims/revoke', (_req, res) => {
    res.json({ revoked: deps.ims.revokeAll() });
  });
  router.get('/ims/requests', (_req, res) => {
    res.json(deps.ims.requests);
  });

  router.get('/acl', (_req, res) => {
    res.json(ACL_TREE);
  });
  router.get('/nonces', (_req, res) => {
    res.json([...state.nonces.values()]);
  });
  router.get('/oauth-log', (req, res) => {
    const outcome = z.enum(['verified', 'rejected']).optional().parse(req.query.outcome);
    res.json(outcome ? state.oauthLog.filter((e) => e.outcome === outcome) : state.oauthLog);
  });
  router.delete('/oauth-log', (_req, res) => {
    state.oauthLog.length = 0;
    res.status(204).end();
  });

  router.get('/faults', (_req, res) => {
    res.json({ rules: deps.faults.list(), counters: deps.faults.counters });
  });
  router.put('/faults', (req, res) => {
    const body = z
      .object({ rules: z.array(z.unknown()) })
      .strict()
      .parse(req.body);
    res.json({ rules: deps.faults.set(body.rules), counters: deps.faults.counters });
  });

  router.get('/settings', (_req, res) => {
    res.json(deps.settings.view());
  });
  router.put('/settings', (req, res) => {
    res.json(deps.settings.update(req.body));
  });

  router.post('/clock/advance', (req, res) => {
    const { seconds } = z
      .object({
        seconds: z
          .number()
          .int()
          .min(0)
          .max(10 * 365 * 86400),
      })
      .strict()
      .parse(req.body);
    const now = deps.clock.advance(seconds);
    res.json({ now: now.toISOString(), offset_seconds: deps.clock.offsetSeconds });
  });

  router.post('/catalog/touch', (req, res) => {
    const { count, entity } = z
      .object({
        count: z.number().int().min(1).max(1_000_000),
        entity: z.enum(['products', 'customers', 'orders']).default('products'),
      })
      .strict()
      .parse(req.body);
    const now = deps.clock.now();
    if (entity === 'customers') res.json({ ids: deps.catalog.touchCustomers(count, now) });
    else if (entity === 'orders') res.json({ ids: deps.catalog.touchOrders(count, now) });
    else res.json({ skus: deps.catalog.touchProducts(count, now) });
  });

  // Deletions as the store admin makes them (products go through REST: DELETE /V1/products/:sku).
  for (const [path, remove] of [
    ['customers', (id: number) => deps.catalog.deleteCustomer(id, deps.clock.now())],
    ['orders', (id: number) => deps.catalog.deleteOrder(id)],
  ] as const) {
    router.delete(`/${path}/:id`, (req, res) => {
      const id = /^\d{1,15}$/.test(String(req.params.id)) ? Number(req.params.id) : 0;
      if (!Number.isSafeInteger(id) || id < 1)
        throw new AdminError(`The ${path} id must be a positive integer.`, 400);
      if (!remove(id)) throw new AdminError(`No ${path.slice(0, -1)} with id ${id}.`, 404);
      res.status(204).end();
    });
  }

  router.use('/webhooks', webhookAdminApi(deps.webhooks, deps.clock));

  router.use(adminErrorHandler);
  return router;
}

/** Optional shared token; and a JSON content type on writes, which a cross-site form cannot send. */
function guard(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (token && req.get('x-admin-token') !== token) {
      res.status(401).json({ error: 'Missing or wrong X-Admin-Token header (SIMULATOR_ADMIN_TOKEN).' });
      return;
    }
    if ((req.method === 'POST' || req.method === 'PUT') && !req.is('application/json')) {
      res
        .status(415)
        .json({ error: 'Send a JSON body with Content-Type: application/json (use {} when empty).' });
      return;
    }
    next();
  };
}

export function adminErrorHandler(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (error instanceof AdminError) {
    res.status(error.status).json({ error: error.message, ...(error.steps ? { steps: error.steps } : {}) });
  } else if (error instanceof z.ZodError) {
    const detail = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    res.status(400).json({ error: `Invalid request: ${detail}` });
  } else if ((error as { type?: string }).type === 'entity.parse.failed') {
    res.status(400).json({ error: 'The body is not valid JSON.' });
  } else {
    res.status(500).json({ error: 'Internal error in the simulator.' });
  }
}
