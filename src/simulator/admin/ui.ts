import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ACL_TREE, type AclNode } from '../acl.js';
import { AdminError, type ActivationStep } from '../admin-error.js';
import type { IntegrationService } from '../integrations.js';
import type { SimulatorSettings } from '../settings.js';
import { STATUS, STATUS_LABELS, type Integration, type SimulatorState } from '../state.js';
import type { WebhookSender } from '../webhooks/webhook-sender.js';

const STATIC_DIR = path.resolve(import.meta.dirname, '../../../views/simulator/static');
const GRID = '/admin/integrations';
export const SUCCESS_CALLBACK_PATH = '/admin/admin/integration/loginSuccessCallback/';

/** Only our own static script and stylesheet; page data travels in data- attributes. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Flash {
  type: 'success' | 'error';
  text: string;
  steps?: ActivationStep[];
}

const FLASH_LIMIT = 100;

export interface AdminUiDeps {
  state: SimulatorState;
  integrations: IntegrationService;
  settings: SimulatorSettings;
  webhooks: WebhookSender;
  baseUrl: () => string;
}

/**
 * The admin pages of System > Extensions > Integrations: grid, new-integration form, the
 * permissions dialog with Allow / Reauthorize, the token-exchange popup and the success callback.
 */
export function adminUi(deps: AdminUiDeps): Router {
  const { integrations } = deps;
  const router = express.Router();
  // One key per simulator instance, like Magento's per-session form_key.
  const formKey = randomBytes(16).toString('hex');
  // Messages survive the redirect after a POST through an opaque id, so a crafted link cannot inject text.
  const flashes = new Map<string, Flash>();
  const form = express.urlencoded({ extended: false, limit: '100kb' });

  const flash = (message: Flash): string => {
    const id = randomBytes(8).toString('hex');
    flashes.set(id, message);
    if (flashes.size > FLASH_LIMIT) flashes.delete(flashes.keys().next().value as string);
    return `${GRID}?message=${id}`;
  };

  const page = (res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    res.status(status);
    res.set({
      'Content-Security-Policy': CSP,
      // Pages can show consumer secrets and access tokens.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
    res.render(`simulator/${view}`, {
      formKey,
      magentoVersion: deps.settings.magentoVersion,
      messages: [] as Flash[],
      ...data,
    });
  };

  const renderGrid = (res: Response, messages: Flash[], status = 200) =>
    page(
      res,
      'integrations',
      {
        title: 'Integrations',
        messages,
        rows: integrations.list().map((i) => ({
          id: i.id,
          name: i.name,
          email: i.email,
          endpointUrl: i.endpointUrl,
          identityLinkUrl: i.identityLinkUrl,
          statusLabel: STATUS_LABELS[i.status],
          status: i.status,
          setupType: i.setupType === 'config' ? 'Config' : 'Manual',
          action: i.status === STATUS.inactive ? 'Activate' : 'Reauthorize',
        })),
      },
      status,
    );

  const requireFormKey = (req: Request, res: Response, next: NextFunction) => {
    const body = req.body as Record<string, unknown> | undefined;
    const sent = req.get('x-form-key') ?? body?.form_key;
    if (typeof sent === 'string' && sameKey(sent, formKey)) return next();
    const message = 'Invalid form key. Reload the page and try again.';
    if (wantsJson(req)) res.status(403).json({ error: message });
    else page(res, 'error', { title: 'Forbidden', message }, 403);
  };

  const integrationOf = (req: Request): Integration => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0)
      throw new AdminError(`Integration ${String(req.params.id)} does not exist.`, 404);
    return integrations.get(id);
  };

  router.use('/admin/static', express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: 0 }));

  // The storefront home page: stores answer their base URL with 200, not a redirect.
  router.get('/', (_req, res) => {
    page(res, 'storefront', { title: 'Store' });
  });

  router.get(GRID, (req, res) => {
    const id = typeof req.query.message === 'string' ? req.query.message : '';
    const message = flashes.get(id);
    flashes.delete(id);
    renderGrid(res, message ? [message] : []);
  });

  // Stores > Configuration > Adobe Services > Webhooks: the public key to paste into the connector.
  router.get('/admin/webhooks', (_req, res) => {
    page(res, 'webhooks', {
      title: 'Webhooks',
      publicKey: deps.webhooks.publicKeyPem,
      subscriptions: deps.webhooks.subscriptions,
      faults: deps.webhooks.faults,
      deliveries: deps.webhooks.deliveries().slice(-20).reverse(),
    });
  });

  router.get(`${GRID}/new`, (_req, res) => {
    page(res, 'integration-form', {
      title: 'New Integration',
      error: null,
      values: emptyValues(),
      tree: ACL_TREE,
    });
  });

  router.post(GRID, form, requireFormKey, (req, res) => {
    const values = formValues(req.body as Record<string, unknown>);
    try {
      const { integration } = integrations.create({
        name: values.name,
        email: values.email,
        endpoint_url: values.endpointUrl,
        identity_link_url: values.identityLinkUrl,
        all_resources: values.allResources,
        resources: values.allResources ? [] : values.resources,
        setup_type: 'manual',
      });
      res.redirect(
        303,
        flash({ type: 'success', text: `The integration '${integration.name}' has been saved.` }),
      );
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      page(
        res,
        'integration-form',
        { title: 'New Integration', error: error.message, values, tree: ACL_TREE },
        error.status,
      );
    }
  });

  router.get(`${GRID}/:id/permissions`, (req, res) => {
    const integration = integrationOf(req);
    const exchange = integrations.isTokenExchange(integration);
    page(res, 'permissions', {
      title: `Integration '${integration.name}'`,
      integration,
      reauthorize: integration.status !== STATUS.inactive,
      exchange,
      action: `${GRID}/${integration.id}/${exchange ? 'tokens-exchange' : 'tokens'}`,
      tree: integration.allResources ? [] : requestedTree(ACL_TREE, new Set(integration.resources)),
      successUrl: successCallbackUrl(deps.baseUrl()),
      gridUrl: GRID,
    });
  });

  // TokensExchange: callback POST to the endpoint, then the data the admin page opens the popup with.
  router.post(`${GRID}/:id/tokens-exchange`, form, requireFormKey, async (req, res) => {
    const integration = integrationOf(req);
    if (!integrations.isTokenExchange(integration)) {
      throw new AdminError(
        `Integration '${integration.name}' has no identity link URL: use the tokens dialog.`,
        400,
      );
    }
    const reauthorize = (req.body as Record<string, unknown>).reauthorize === '1';
    let result;
    try {
      result = await integrations.activate(integration.id, reauthorize);
    } catch (error) {
      if (!(error instanceof AdminError) || error.status === 404) throw error;
      const failure: Flash = { type: 'error', text: error.message, steps: error.steps };
      if (wantsJson(req)) {
        // Magento's integration.js follows `_redirect` to the grid, where the error is shown.
        res
          .status(error.status)
          .json({ error: error.message, steps: error.steps ?? [], _redirect: flash(failure) });
      } else {
        renderGrid(res, [failure], error.status);
      }
      return;
    }
    const popup = result.popup;
    if (!popup) throw new AdminError('Activation did not produce an identity link.', 500);
    if (wantsJson(req)) {
      res.json({
        identity_link_url: popup.identity_link_url,
        oauth_consumer_key: popup.oauth_consumer_key,
        popup_content: popup.popup_content,
        popup_url: popup.url,
        success_call_back: popup.success_call_back,
      });
      return;
    }
    page(res, 'exchange-sent', {
      title: `Integration '${integration.name}'`,
      popup,
      steps: result.steps,
      gridUrl: GRID,
    });
  });

  // TokensDialog: manual integrations get their four credentials straight away.
  router.post(`${GRID}/:id/tokens`, form, requireFormKey, async (req, res) => {
    const integration = integrationOf(req);
    if (integrations.isTokenExchange(integration)) {
      throw new AdminError(
        `Integration '${integration.name}' has an identity link URL: it activates through the token exchange.`,
        400,
      );
    }
    const result = await integrations.activate(
      integration.id,
      (req.body as Record<string, unknown>).reauthorize === '1',
    );
    if (!result.credentials) throw new AdminError('Activation did not issue credentials.', 500);
    page(res, 'tokens', {
      title: `Integration '${integration.name}'`,
      integration,
      credentials: result.credentials,
      gridUrl: GRID,
    });
  });

  router.post(`${GRID}/:id/delete`, form, requireFormKey, (req, res) => {
    const integration = integrationOf(req);
    integrations.delete(integration.id);
    res.redirect(
      303,
      flash({ type: 'success', text: `The integration '${integration.name}' has been deleted.` }),
    );
  });

  // Stands in for setup:upgrade after a changed integration.xml: new id, new consumer, status Reset.
  router.post(`${GRID}/:id/reset`, form, requireFormKey, (req, res) => {
    const old = integrationOf(req);
    const { integration } = integrations.reset(old.id);
    const text = `The integration '${integration.name}' was re-created with new credentials (id ${old.id} → ${integration.id}); reauthorize it.`;
    res.redirect(303, flash({ type: 'success', text }));
  });

  router.get([SUCCESS_CALLBACK_PATH, SUCCESS_CALLBACK_PATH.slice(0, -1)], (_req, res) => {
    page(res, 'login-success', { title: 'Integration activated' });
  });

  router.use(GRID, (_req, _res, next) => next(new AdminError('Page not found.', 404)));

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = errorStatus(error);
    const message = errorMessage(error, status);
    if (wantsJson(req)) {
      res.status(status).json({ error: message });
    } else if (error instanceof AdminError && status !== 404 && status < 500) {
      renderGrid(res, [{ type: 'error', text: message, steps: error.steps }], status);
    } else {
      page(res, 'error', { title: status === 404 ? 'Not found' : 'Error', message }, status);
    }
  });

  return router;
}

/** The same URL IntegrationService puts in success_call_back. */
function successCallbackUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/$/, '')}${SUCCESS_CALLBACK_PATH}`;
}

function errorMessage(error: unknown, status: number): string {
  if (error instanceof AdminError) return error.message;
  if (status === 404) return 'Page not found.';
  if (status < 500) return 'The request could not be read.';
  return 'Internal error in the simulator.';
}

function errorStatus(error: unknown): number {
  if (error instanceof AdminError) return error.status;
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

function sameKey(sent: string, expected: string): boolean {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

interface FormValues {
  name: string;
  email: string;
  endpointUrl: string;
  identityLinkUrl: string;
  allResources: boolean;
  resources: string[];
}

function emptyValues(): FormValues {
  return { name: '', email: '', endpointUrl: '', identityLinkUrl: '', allResources: false, resources: [] };
}

function formValues(body: Record<string, unknown>): FormValues {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const raw = body.resources;
  const resources = (Array.isArray(raw) ? raw : [raw]).filter(
    (r): r is string => typeof r === 'string' && r !== '',
  );
  return {
    name: text(body.name),
    email: text(body.email).trim(),
    endpointUrl: text(body.endpoint_url).trim(),
    identityLinkUrl: text(body.identity_link_url).trim(),
    allResources: body.resource_access === 'all',
    resources,
  };
}

export interface RequestedNode {
  id: string;
  title: string;
  requested: boolean;
  children: RequestedNode[];
}

/** The ACL tree cut down to the requested resources and the branches that lead to them. */
function requestedTree(nodes: AclNode[], requested: Set<string>): RequestedNode[] {
  const out: RequestedNode[] = [];
  for (const node of nodes) {
    const children = requestedTree(node.children ?? [], requested);
    if (requested.has(node.id) || children.length) {
      out.push({ id: node.id, title: node.title, requested: requested.has(node.id), children });
    }
  }
  return out;
}
