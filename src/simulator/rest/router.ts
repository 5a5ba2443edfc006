import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Catalog } from '../catalog/catalog.js';
import { rawurldecode } from '../oauth/encoding.js';
import { rawBodyText } from '../oauth/incoming.js';
import { authenticate, isAllowed, type RestAuthDeps } from './auth.js';
import { applyFieldsFilter } from './fields-filter.js';
import { notAuthorized, RestError, type RestErrorItem } from './rest-error.js';
import { parseSearchCriteria } from '../catalog/search-criteria.js';
import { storeConfigs, websites } from './store-data.js';

interface RestCall {
  params: string[];
  query: Record<string, string>;
  body: unknown;
  storeCode: string;
  now: Date;
}

interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Segments after `V1/`; `:param` matches one raw segment. */
  pattern: string[];
  /** The ACL resource the route's webapi.xml declares. */
  resource: string;
  handle: (call: RestCall) => unknown;
}

const STORE_CODES = new Set(['default', 'all']);

function route(method: Route['method'], path: string, resource: string, handle: Route['handle']): Route {
  return { method, pattern: path.split('/'), resource, handle };
}

/**
 * The REST subset under `/rest/V1/...` and `/rest/<store code>/V1/...` (contract §4.1, §5, §6), or
 * in SaaS mode under `/<tenant-id>/V1/...`.
 */
export function restRoutes(deps: RestAuthDeps & { catalog: Catalog; storeBaseUrl: () => string }): Router {
  const { catalog } = deps;
  const routes: Route[] = [
    route('GET', 'store/storeConfigs', 'Magento_Backend::stores', () => storeConfigs(deps.storeBaseUrl())),
    route('GET', 'store/websites', 'Magento_Backend::stores', () => websites()),
    route('GET', 'products', 'Magento_Catalog::products', (c) =>
      catalog.searchProducts(parseSearchCriteria(c.query)),
    ),
    route('GET', 'products/:sku', 'Magento_Catalog::products', (c) =>
      catalog.getProduct(c.params[0] as string),
    ),
    route('PUT', 'products/:sku', 'Magento_Catalog::products', (c) =>
      catalog.updateProduct(c.params[0] as string, productPayload(c.body), c.now),
    ),
    // ProductRepository::save: a POST with an existing sku updates that product.
    route('POST', 'products', 'Magento_Catalog::products', (c) => {
      const product = productPayload(c.body);
      const existing = typeof product.sku === 'string' ? catalog.findProduct(product.sku) : undefined;
      return existing
        ? catalog.updateProduct(existing.sku, product, c.now)
        : catalog.createProduct(product, c.now);
    }),
    route('DELETE', 'products/:sku', 'Magento_Catalog::products', (c) =>
      catalog.deleteProduct(c.params[0] as string, c.now),
    ),
    route('GET', 'orders', 'Magento_Sales::actions_view', (c) =>
      catalog.searchOrders(parseSearchCriteria(c.query)),
    ),
    route('GET', 'customers/search', 'Magento_Customer::customer', (c) =>
      catalog.searchCustomers(parseSearchCriteria(c.query)),
    ),
    // CustomerRepository::getById; after customers/search, which would otherwise match as an id.
    route('GET', 'customers/:customerId', 'Magento_Customer::customer', (c) =>
      catalog.getCustomer(intParam(c.params[0] as string)),
    ),
    // CustomerRepository::save; webapi.xml grants it with Magento_Customer::manage, not ::customer.
    route('PUT', 'customers/:customerId', 'Magento_Customer::manage', (c) =>
      catalog.updateCustomer(intParam(c.params[0] as string), bodyObject(c.body, 'customer'), c.now),
    ),
    route('GET', 'customerGroups/search', 'Magento_Customer::group', (c) =>
      catalog.searchCustomerGroups(parseSearchCriteria(c.query)),
    ),
    route('GET', 'shipments', 'Magento_Sales::shipment', (c) =>
      catalog.searchShipments(parseSearchCriteria(c.query)),
    ),
    route('GET', 'categories/list', 'Magento_Catalog::categories', (c) =>
      catalog.searchCategories(parseSearchCriteria(c.query)),
    ),
    route('GET', 'inventory/source-items', 'Magento_InventoryApi::source', (c) =>
      catalog.searchSourceItems(parseSearchCriteria(c.query)),
    ),
    // SourceItemsSaveInterface returns void, which Magento's REST layer renders as [].
    route('POST', 'inventory/source-items', 'Magento_InventoryApi::stock_source_item_assign', (c) => {
      catalog.saveSourceItems(c.body, c.now);
      return [];
    }),
  ];

  const router = express.Router();
  router.use(express.raw({ type: () => true, limit: '5mb' }));
  router.use((req: Request, res: Response) => {
    // Relative to where the router is mounted: /rest (PaaS) or /<tenant-id> (SaaS).
    const rawPath = (req.originalUrl.split('?')[0] as string).slice(req.baseUrl.length);
    const segments = rawPath.replace(/^\//, '').split('/');
    let storeCode = 'default';
    if (segments[0] !== 'V1' && STORE_CODES.has(segments[0] ?? '')) storeCode = segments.shift() as string;
    if (segments.shift() !== 'V1') throw new RestError(404, 'Request does not match any route.');
    const matched = match(routes, req.method, segments);
    if (!matched) throw new RestError(404, 'Request does not match any route.');
    if (storeCode === 'all' && req.method === 'GET') {
      throw new RestError(400, "Cannot perform GET operation with store code 'all'");
    }
    const user = authenticate(req, deps);
    if (!isAllowed(user, matched.route.resource)) throw notAuthorized([matched.route.resource]);
    const query = flatQuery(req);
    const result = matched.route.handle({
      params: matched.params,
      query,
      body: jsonBody(req),
      storeCode,
      now: deps.state.clock(),
    });
    // Magento's output processor leaves null fields out; then `fields` keeps only the keys asked for.
    const withoutNulls = JSON.stringify(result, (_key, value: unknown) =>
      value === null ? undefined : value,
    );
    const filtered = query.fields ? applyFieldsFilter(JSON.parse(withoutNulls), query.fields) : undefined;
    res
      .status(200)
      .type('application/json; charset=utf-8')
      .send(filtered === undefined ? withoutNulls : JSON.stringify(filtered));
  });
  router.use(restErrorHandler);
  return router;
}

function match(
  routes: Route[],
  method: string,
  segments: string[],
): { route: Route; params: string[] } | null {
  for (const r of routes) {
    if (r.method !== method || r.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const ok = r.pattern.every((p, i) => {
      const seg = segments[i] as string;
      if (p.startsWith(':')) {
        params.push(rawurldecode(seg));
        return seg !== '';
      }
      return p === seg;
    });
    if (ok) return { route: r, params };
  }
  return null;
}

/** The query as the REST layer reads it: decoded, flat bracket keys, last one wins. */
function flatQuery(req: Request): Record<string, string> {
  const raw = req.originalUrl.split('?')[1] ?? '';
  return Object.fromEntries(new URLSearchParams(raw));
}

function jsonBody(req: Request): unknown {
  const text = rawBodyText(req);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new RestError(400, 'Decoding error.');
  }
}

/** A path id the webapi converts to int: anything else is its type error. */
function intParam(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) {
    throw new RestError(
      400,
      'The "%1" value\'s type is invalid. The "%2" type was expected. Verify and try again.',
      [raw, 'int'],
    );
  }
  return Number(raw);
}

/** The one object argument of a write (`{customer: {...}}`): required, and an object. */
function bodyObject(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || !(name in body)) {
    throw new RestError(400, '"%fieldName" is required. Enter and try again.', { fieldName: name });
  }
  return (body as Record<string, unknown>)[name];
}

function productPayload(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || !('product' in body)) {
    throw new RestError(400, '"%fieldName" is required. Enter and try again.', { fieldName: 'product' });
  }
  const product = (body as { product: unknown }).product;
  if (typeof product !== 'object' || product === null || Array.isArray(product)) {
    throw new RestError(
      400,
      'The "%1" value\'s type is invalid. The "%2" type was expected. Verify and try again.',
      [String(product), '\\Magento\\Catalog\\Api\\Data\\ProductInterface'],
    );
  }
  return product as Record<string, unknown>;
}

/** Magento's error renderer: known errors keep their status and template; anything else is a masked 500. */
export function restErrorHandler(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const e = error as {
    status?: unknown;
    message?: unknown;
    parameters?: unknown;
    template?: unknown;
    errors?: RestErrorItem[];
  };
  if (error instanceof RestError) {
    res.status(error.status).json(error.toJSON());
  } else if (
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 500 &&
    typeof e.message === 'string'
  ) {
    const params = e.parameters as string[] | Record<string, string> | undefined;
    res.status(e.status).json(new RestError(e.status, e.message, params, e.errors).toJSON());
  } else {
    res
      .status(500)
      .json({ message: 'Internal Error. Details are available in Magento log file. Report ID: webapi-sim' });
  }
}
