import { randomBytes } from 'node:crypto';
import { hintFor } from '../magento/errors.js';
import { ACL_REFUSED, RESOURCE_PROBES } from '../magento/resource-probes.js';
import { createNonce, type SigningProfile } from '../oauth1/index.js';
import type { CheckResult } from './report.js';
import { storeSaid, type ProbeAnswer, type StoreProbe } from './probe.js';

export type Outcome = Pick<CheckResult, 'status' | 'detail' | 'storeSaid' | 'cause' | 'fix'>;

export interface ContractContext {
  probe: StoreProbe;
  allowWrites: boolean;
  /** False once the plain signed call failed: later signed checks are skipped, not failed again. */
  signingWorks: boolean;
  /** The base-string rules the store turned out to follow. */
  profile: SigningProfile;
  granted: Map<string, boolean | null>;
}

export interface Check {
  id: string;
  category: string;
  name: string;
  needsSigning?: boolean;
  run: (ctx: ContractContext) => Promise<Outcome>;
}

const SIGNATURE_INVALID = 'The signature is invalid. Verify and try again.';
const NATURAL: SigningProfile = { sort: 'natural', path: 'as-sent' };
const LAMINAS_PATH: SigningProfile = { sort: 'natural', path: 'laminas' };

/** Thrown when the store answers 429: the runner reports a warning, not a broken store. */
export class RateLimited extends Error {
  constructor(readonly retryAfter: string | undefined) {
    super('rate limited');
  }
}

function guard(answer: ProbeAnswer): ProbeAnswer {
  if (answer.status === 429) {
    const retry = answer.headers['retry-after'];
    throw new RateLimited(Array.isArray(retry) ? retry[0] : retry);
  }
  return answer;
}

/** A failed answer, in the store's words, with the likely cause and fix where one is known. */
function refused(what: string, answer: ProbeAnswer, extra: Partial<Outcome> = {}): Outcome {
  const said = storeSaid(answer);
  const message = (answer.json as { message?: string } | undefined)?.message ?? said ?? '';
  const hint = hintFor(message);
  return {
    status: 'fail',
    detail: `${what}: HTTP ${answer.status} in ${answer.ms} ms.`,
    storeSaid: said,
    cause: hint ?? (answer.status >= 500 ? 'The store failed internally or is unavailable.' : undefined),
    ...extra,
  };
}

const isSignatureRefusal = (a: ProbeAnswer) => a.status === 401 && storeSaid(a) === SIGNATURE_INVALID;
const isAclRefusal = (a: ProbeAnswer) =>
  a.status === 401 && (a.json as { message?: string })?.message === ACL_REFUSED;

/** Signs with the store's learned rules; if the store refuses the signature, tries the alternatives once. */
async function signedAdaptive(
  ctx: ContractContext,
  path: string,
  query: [string, string][],
  alternatives: SigningProfile[],
): Promise<{ answer: ProbeAnswer; profile: SigningProfile }> {
  let answer = guard(await ctx.probe.signed('GET', path, { query, profile: ctx.profile }));
  if (!isSignatureRefusal(answer)) return { answer, profile: ctx.profile };
  for (const profile of alternatives) {
    const retry = guard(await ctx.probe.signed('GET', path, { query, profile }));
    if (!isSignatureRefusal(retry)) return { answer: retry, profile };
    answer = retry;
  }
  return { answer, profile: ctx.profile };
}

function skipUnlessGranted(ctx: ContractContext, resource: string): Outcome | null {
  return ctx.granted.get(resource) === false
    ? { status: 'skip', detail: `The integration is not granted ${resource}, so this could not be checked.` }
    : null;
}

/** The synced entities beyond products, customers and orders: path, ACL resource and the fields a row must carry. */
const ENTITY_CHECKS = [
  {
    id: 'entities.customer-groups',
    label: 'Customer groups',
    path: 'V1/customerGroups/search',
    resource: 'Magento_Customer::group',
    fields: ['id', 'code'],
    sort: ['id'],
  },
  {
    id: 'entities.shipments',
    label: 'Shipments',
    path: 'V1/shipments',
    resource: 'Magento_Sales::shipment',
    fields: ['entity_id', 'order_id', 'updated_at'],
    sort: ['entity_id'],
  },
  {
    id: 'entities.categories',
    label: 'Categories',
    path: 'V1/categories/list',
    resource: 'Magento_Catalog::categories',
    fields: ['id', 'name', 'updated_at'],
    sort: ['id'],
  },
  {
    id: 'entities.stock',
    label: 'Stock (MSI source items)',
    path: 'V1/inventory/source-items',
    resource: 'Magento_InventoryApi::source',
    fields: ['sku', 'source_code', 'quantity', 'status'],
    sort: ['source_code', 'sku'],
  },
] as const;

/** One entity's list answers a searchCriteria query with Magento's envelope, or says plainly it is not granted. */
function entityCheck(entity: (typeof ENTITY_CHECKS)[number]): Check {
  return {
    id: entity.id,
    category: 'entities',
    name: `${entity.label}: GET ${entity.path} with searchCriteria`,
    needsSigning: true,
    run: async (ctx) => {
      const query: [string, string][] = [];
      entity.sort.forEach((field, i) =>
        query.push(
          [`searchCriteria[sortOrders][${i}][field]`, field],
          [`searchCriteria[sortOrders][${i}][direction]`, 'ASC'],
        ),
      );
      query.push(['searchCriteria[pageSize]', '2'], ['searchCriteria[currentPage]', '1']);
      const answer = guard(await ctx.probe.signed('GET', entity.path, { profile: ctx.profile, query }));
      if (isAclRefusal(answer)) {
        ctx.granted.set(entity.resource, false);
        return {
          status: 'skip',
          detail: `Not granted: the integration lacks ${entity.resource}, so ${entity.label.toLowerCase()} cannot be synced.`,
          fix: `Add ${entity.resource} to the integration's API resources (admin or etc/integration.xml) and reactivate.`,
        };
      }
      if (answer.status === 404) {
        return {
          status: 'warn',
          detail: `GET ${entity.path}: HTTP 404 in ${answer.ms} ms.`,
          storeSaid: storeSaid(answer),
          cause: 'The route is missing: the module behind it is disabled or not installed (stock needs MSI).',
        };
      }
      if (answer.status !== 200) return refused(`GET ${entity.path}`, answer);
      ctx.granted.set(entity.resource, true);
      const body = answer.json as { items?: unknown; total_count?: unknown; search_criteria?: unknown };
      const items = Array.isArray(body?.items) ? (body.items as Record<string, unknown>[]) : undefined;
      const problems: string[] = [];
      if (!items) problems.push('no items array');
      if (typeof body?.total_count !== 'number') problems.push('no numeric total_count');
      if (typeof body?.search_criteria !== 'object' || body.search_criteria === null)
        problems.push('no search_criteria echo');
      if (items && items.length > 2) problems.push(`${items.length} items for a page size of 2`);
      const missing = entity.fields.filter((f) => items?.some((item) => !(f in item)));
      if (missing.length) problems.push(`rows without ${missing.join(', ')}`);
      if (problems.length) {
        return {
          status: 'fail',
          detail: `GET ${entity.path}: ${problems.join('; ')}.`,
          cause: "The answer is not Magento's SearchResults envelope; a sync cannot page through it.",
        };
      }
      return {
        status: 'pass',
        detail: `HTTP 200 in ${answer.ms} ms: ${items?.length} of ${String(body.total_count)} rows, with ${entity.fields.join(', ')}.`,
      };
    },
  };
}

export const CHECKS: Check[] = [
  {
    id: 'base-url.scheme',
    category: 'base-url',
    name: 'Store base URL scheme',
    run: async (ctx) => {
      const url = new URL(ctx.probe.baseUrl);
      return url.protocol === 'https:'
        ? { status: 'pass', detail: `https; requests are signed against ${url.origin}${url.pathname}.` }
        : {
            status: 'warn',
            detail: `Plain http: requests are signed against ${url.origin}${url.pathname}.`,
            cause:
              'Tokens and signatures travel in clear, and a store behind a TLS proxy may see (and sign) https instead.',
            fix: 'Use the https base URL the store is configured with.',
          };
    },
  },
  {
    id: 'base-url.storefront',
    category: 'base-url',
    name: 'Base URL answers without a redirect',
    run: async (ctx) => {
      const answer = guard(await ctx.probe.unsigned('GET', ctx.probe.baseUrl));
      if (answer.status >= 300 && answer.status < 400) {
        return {
          status: 'warn',
          detail: `HTTP ${answer.status} to ${String(answer.headers.location)}.`,
          cause:
            'The base URL redirects (http→https, a missing trailing slash or store code); Magento signs the URL it serves.',
          fix: `Use ${String(answer.headers.location)} as the store URL.`,
        };
      }
      return answer.status < 400
        ? { status: 'pass', detail: `HTTP ${answer.status} in ${answer.ms} ms.` }
        : {
            status: 'warn',
            detail: `HTTP ${answer.status}: the storefront is not reachable at the base URL.`,
          };
    },
  },
  {
    id: 'base-url.rest',
    category: 'base-url',
    name: 'REST API at {base}rest/, refusing anonymous calls',
    run: async (ctx) => {
      const answer = guard(await ctx.probe.unsigned('GET', ctx.probe.restUrl('V1/store/storeConfigs')));
      if (answer.status >= 300 && answer.status < 400) {
        return {
          status: 'fail',
          detail: `The REST API redirects: HTTP ${answer.status} to ${String(answer.headers.location)}.`,
          cause:
            'A signed request is signed for the URL it is sent to; a redirected one arrives with a signature for another URL.',
          fix: 'Use the URL the store redirects to as the store base URL (scheme, host and path as the store serves them).',
        };
      }
      if (answer.status === 401)
        return { status: 'pass', detail: `Anonymous call refused with 401 in ${answer.ms} ms.` };
      if (answer.status === 200) {
        return {
          status: 'warn',
          detail: 'The store configuration answered without credentials.',
          cause: 'Anonymous access to store configuration is open.',
        };
      }
      return refused('GET rest/V1/store/storeConfigs', answer, {
        cause: 'No Magento REST API at this URL.',
        fix: 'Check the base URL: it may need index.php/ or a store code.',
      });
    },
  },
  {
    id: 'sign.sha256',
    category: 'signing',
    name: 'Signed GET /V1/store/storeConfigs (HMAC-SHA256)',
    run: async (ctx) => {
      const answer = guard(await ctx.probe.signed('GET', 'V1/store/storeConfigs'));
      if (answer.status !== 200) {
        ctx.signingWorks = false;
        return refused('Signed GET V1/store/storeConfigs', answer);
      }
      ctx.granted.set('Magento_Backend::stores', true);
      const configs = (answer.json as { base_url?: string; secure_base_url?: string }[] | undefined) ?? [];
      const own = configs[0]?.secure_base_url ?? configs[0]?.base_url;
      if (own && new URL(own).origin !== new URL(ctx.probe.baseUrl).origin) {
        return {
          status: 'warn',
          detail: `Signed call works (${answer.ms} ms), but the store says its base URL is ${own}.`,
          cause: 'The URL used here differs from the one the store is configured with.',
          fix: `Prefer ${own}.`,
        };
      }
      return { status: 'pass', detail: `HTTP 200 in ${answer.ms} ms.` };
    },
  },
  {
    id: 'sign.sha1',
    category: 'signing',
    name: 'Signed GET with HMAC-SHA1',
    needsSigning: true,
    run: async (ctx) => {
      const answer = guard(
        await ctx.probe.signed('GET', 'V1/store/storeConfigs', { signatureMethod: 'HMAC-SHA1' }),
      );
      if (answer.status === 200) {
        return {
          status: 'warn',
          detail: 'HMAC-SHA1 is accepted.',
          cause: 'Magento 2.4.3 or older (2.4.4+ accepts only HMAC-SHA256).',
          fix: 'Sign with HMAC-SHA256 anyway; plan for the upgrade.',
        };
      }
      return answer.status === 400 && /not supported/.test(storeSaid(answer) ?? '')
        ? {
            status: 'pass',
            detail: 'Refused, as Magento 2.4.4+ does; HMAC-SHA256 is the method to use.',
            storeSaid: storeSaid(answer),
          }
        : refused('HMAC-SHA1 call', answer, { status: 'warn' });
    },
  },
  {
    id: 'queries.ten-filter-groups',
    category: 'queries',
    name: 'Nested searchCriteria with 12 filter groups (indexes ≥ 10)',
    needsSigning: true,
    run: async (ctx) => {
      const query: [string, string][] = [];
      for (let g = 0; g < 12; g++) {
        query.push([`searchCriteria[filter_groups][${g}][filters][0][field]`, 'sku']);
        query.push([`searchCriteria[filter_groups][${g}][filters][0][value]`, '%']);
        query.push([`searchCriteria[filter_groups][${g}][filters][0][condition_type]`, 'like']);
      }
      query.push(['searchCriteria[pageSize]', '1']);
      const { answer, profile } = await signedAdaptive(ctx, 'V1/products', query, [NATURAL]);
      if (isAclRefusal(answer))
        return { status: 'skip', detail: 'Magento_Catalog::products is not granted.' };
      if (answer.status !== 200) return refused('GET V1/products with 12 filter groups', answer);
      if (profile.sort === 'natural' && ctx.profile.sort === 'byte') {
        ctx.profile = { ...ctx.profile, sort: 'natural' };
        return {
          status: 'warn',
          detail: 'Accepted only with parameters in natural order ([2] before [10]).',
          cause:
            'The store signs with Laminas (Magento 2.4.4–2.4.7), which sorts names naturally; RFC 5849 clients sort bytes.',
          fix: 'Keep queries under 10 filter groups, or sign in natural order (the connector learns this by itself).',
        };
      }
      return { status: 'pass', detail: `HTTP 200 in ${answer.ms} ms with RFC byte order.` };
    },
  },
  {
    id: 'queries.special-characters',
    category: 'queries',
    name: "Filter value with spaces, +, %, *, ~, !'() and unicode",
    needsSigning: true,
    run: async (ctx) => {
      const value = "a b+c%d*e~f!'()é ✓";
      const answer = guard(
        await ctx.probe.signed('GET', 'V1/products', {
          profile: ctx.profile,
          query: [
            ['searchCriteria[filter_groups][0][filters][0][field]', 'name'],
            ['searchCriteria[filter_groups][0][filters][0][value]', value],
            ['searchCriteria[pageSize]', '1'],
          ],
        }),
      );
      if (isAclRefusal(answer))
        return { status: 'skip', detail: 'Magento_Catalog::products is not granted.' };
      if (answer.status !== 200) {
        return refused('GET V1/products with special characters', answer, {
          fix: 'Send spaces as %20 and a literal + as %2B, and sign the decoded values.',
        });
      }
      const echoed = (
        answer.json as { search_criteria?: { filter_groups?: { filters?: { value?: string }[] }[] } }
      )?.search_criteria?.filter_groups?.[0]?.filters?.[0]?.value;
      if (echoed !== undefined && echoed !== value) {
        return {
          status: 'fail',
          detail: `The store read the value as ${JSON.stringify(echoed)} instead of ${JSON.stringify(value)}.`,
          cause: 'A proxy or the store decoded the query differently (a + read as a space?).',
        };
      }
      return { status: 'pass', detail: `Signed and read back intact in ${answer.ms} ms.` };
    },
  },
  {
    id: 'queries.slash-in-path',
    category: 'queries',
    name: 'SKU with a slash (%2F) in the path',
    needsSigning: true,
    run: async (ctx) => {
      const sku = `contract/${randomBytes(4).toString('hex')}`;
      const path = `V1/products/${encodeURIComponent(sku)}`;
      const { answer, profile } = await signedAdaptive(
        ctx,
        path,
        [],
        [{ ...ctx.profile, path: 'laminas' }, LAMINAS_PATH],
      );
      if (isAclRefusal(answer))
        return { status: 'skip', detail: 'Magento_Catalog::products is not granted.' };
      if (answer.status !== 404 && answer.status !== 200) return refused(`GET ${path}`, answer);
      if (profile.path === 'laminas') {
        ctx.profile = profile;
        return {
          status: 'warn',
          detail: 'Accepted only when the path is signed with %2F decoded.',
          cause: 'Magento 2.4.4–2.4.6 normalises the path before signing (magento/magento2#37913).',
          fix: 'Avoid / in SKUs used in paths, or sign the decoded path (the connector learns this by itself).',
        };
      }
      return {
        status: 'pass',
        detail: `Signature accepted (HTTP ${answer.status}: an unknown SKU, as expected).`,
      };
    },
  },
  {
    id: 'queries.pagination',
    category: 'queries',
    name: 'Pagination: pageSize, currentPage, total_count',
    needsSigning: true,
    run: async (ctx) => {
      const page = async (n: number) =>
        guard(
          await ctx.probe.signed('GET', 'V1/products', {
            profile: ctx.profile,
            query: [
              ['searchCriteria[pageSize]', '2'],
              ['searchCriteria[currentPage]', String(n)],
            ],
          }),
        );
      const first = await page(1);
      if (isAclRefusal(first)) return { status: 'skip', detail: 'Magento_Catalog::products is not granted.' };
      if (first.status !== 200) return refused('GET V1/products page 1', first);
      type Page = { items?: { sku?: string }[]; total_count?: number };
      const p1 = first.json as Page;
      const total = p1.total_count ?? -1;
      if (total < 3)
        return { status: 'skip', detail: `Only ${total} products: pagination needs at least 3.` };
      const p2 = (await page(2)).json as Page;
      const last = Math.ceil(total / 2);
      const lastPage = (await page(last)).json as Page;
      const beyond = (await page(last + 3)).json as Page;
      const skus = (p: Page) => (p.items ?? []).map((i) => i.sku ?? '');
      const problems: string[] = [];
      if ((p1.items ?? []).length !== 2) problems.push(`page 1 has ${(p1.items ?? []).length} items, not 2`);
      if (p2.total_count !== total) problems.push(`total_count changed from ${total} to ${p2.total_count}`);
      if (skus(p1).some((s) => skus(p2).includes(s))) problems.push('pages 1 and 2 overlap');
      if (problems.length) {
        return {
          status: 'fail',
          detail: problems.join('; ') + '.',
          cause: 'The store pages inconsistently; a sync could miss or repeat rows.',
        };
      }
      const repeats = skus(beyond).join() === skus(lastPage).join() && skus(beyond).length > 0;
      return {
        status: 'pass',
        detail:
          `total_count ${total}, pages consistent; past the end the store ` +
          (repeats
            ? 'repeats the last page (as Magento does): stop by total_count.'
            : `returns ${skus(beyond).length} items.`),
      };
    },
  },
  {
    id: 'security.tampered-signature',
    category: 'security',
    name: 'A tampered signature is refused',
    needsSigning: true,
    run: async (ctx) => {
      const answer = guard(await ctx.probe.signed('GET', 'V1/store/storeConfigs', { tamper: true }));
      return answer.status === 401
        ? { status: 'pass', detail: 'Refused with 401.', storeSaid: storeSaid(answer) }
        : {
            status: 'fail',
            detail: `INSECURE: a request with a tampered signature got HTTP ${answer.status}.`,
            cause: 'The store does not verify OAuth signatures.',
            fix: 'Check for a module or patch that bypasses Magento\\Framework\\Oauth signature validation.',
          };
    },
  },
  {
    id: 'security.nonce-reuse',
    category: 'security',
    name: 'A reused nonce is refused',
    needsSigning: true,
    run: async (ctx) => {
      const nonce = createNonce();
      const timestamp = Math.floor(Date.now() / 1000);
      const first = guard(await ctx.probe.signed('GET', 'V1/store/storeConfigs', { nonce, timestamp }));
      if (first.status !== 200) return refused('First use of the nonce', first);
      const again = guard(await ctx.probe.signed('GET', 'V1/store/storeConfigs', { nonce, timestamp }));
      return again.status === 401
        ? {
            status: 'pass',
            detail: 'The replayed request was refused with 401.',
            storeSaid: storeSaid(again),
          }
        : {
            status: 'fail',
            detail: `INSECURE: the same signed request, replayed, got HTTP ${again.status}.`,
            cause: 'The store does not record nonces, so captured requests can be replayed.',
            fix: 'Check the oauth_nonce table and any customisation of the nonce generator.',
          };
    },
  },
  {
    id: 'security.future-timestamp',
    category: 'security',
    name: 'A timestamp more than 600 s ahead is refused',
    needsSigning: true,
    run: async (ctx) => {
      const answer = guard(
        await ctx.probe.signed('GET', 'V1/store/storeConfigs', {
          timestamp: Math.floor(Date.now() / 1000) + 3600,
        }),
      );
      return answer.status === 400 || answer.status === 401
        ? { status: 'pass', detail: `Refused with ${answer.status}.`, storeSaid: storeSaid(answer) }
        : {
            status: 'fail',
            detail: `INSECURE: a timestamp an hour ahead got HTTP ${answer.status}.`,
            cause: 'The store does not check timestamps (Magento refuses more than 600 s ahead).',
          };
    },
  },
  {
    id: 'bearer',
    category: 'bearer',
    name: 'The access token used as a Bearer token',
    needsSigning: true,
    run: async (ctx) => {
      // A refused Bearer call says nothing unless the same token works signed.
      const signed = guard(await ctx.probe.signed('GET', 'V1/store/storeConfigs', { profile: ctx.profile }));
      if (signed.status !== 200) {
        return {
          status: 'skip',
          detail: `Not run: the credentials do not work signed (HTTP ${signed.status}), so a refused Bearer call would prove nothing.`,
          storeSaid: storeSaid(signed),
        };
      }
      const answer = guard(
        await ctx.probe.signed('GET', 'V1/store/storeConfigs', {
          authorization: `Bearer ${ctx.probe.credentials.token}`,
        }),
      );
      return answer.status === 200
        ? {
            status: 'warn',
            detail: 'Accepted: the token alone, without a signature, reads the store.',
            cause:
              '"Allow OAuth Access Tokens to be used as standalone Bearer tokens" is on (off by default since 2.4.4).',
            fix: 'Turn it off unless a client needs it: a leaked token is then enough to call the API.',
          }
        : {
            status: 'pass',
            detail: `Refused (HTTP ${answer.status}), as Magento 2.4.4+ does by default; sign every call.`,
            storeSaid: storeSaid(answer),
          };
    },
  },
  {
    id: 'acl',
    category: 'acl',
    name: 'Which common resources the integration can read',
    needsSigning: true,
    run: async (ctx) => {
      const lines: string[] = [];
      for (const probe of RESOURCE_PROBES) {
        const answer = guard(
          await ctx.probe.signed('GET', probe.path, {
            profile: ctx.profile,
            query: probe.paged ? [['searchCriteria[pageSize]', '1']] : [],
          }),
        );
        const granted = answer.status === 200 ? true : isAclRefusal(answer) ? false : null;
        ctx.granted.set(probe.resource, granted);
        lines.push(
          `${probe.label} (${probe.resource}): ${granted === true ? 'granted' : granted === false ? 'not granted' : `HTTP ${answer.status}`}`,
        );
      }
      // Granted or not is the integration's business; an answer that is neither is the store's.
      const unclear = [...ctx.granted.values()].some((g) => g === null);
      return unclear
        ? {
            status: 'warn',
            detail: lines.join('; ') + '.',
            cause:
              'Some resources answered neither data nor the ACL refusal: a missing route, a module disabled, or an error.',
          }
        : { status: 'pass', detail: lines.join('; ') + '.' };
    },
  },
  ...ENTITY_CHECKS.map(entityCheck),
  {
    id: 'writes.product-lifecycle',
    category: 'writes',
    name: 'Create, read, update and delete a disabled test product',
    needsSigning: true,
    run: async (ctx) => {
      if (!ctx.allowWrites)
        return { status: 'skip', detail: 'Writes are off; pass --allow-writes to run this check.' };
      const skip = skipUnlessGranted(ctx, 'Magento_Catalog::products');
      if (skip) return skip;
      const sku = `contract-test-${randomBytes(6).toString('hex')}`;
      const path = `V1/products/${encodeURIComponent(sku)}`;
      let created = false;
      try {
        const create = guard(
          await ctx.probe.signed('POST', 'V1/products', {
            profile: ctx.profile,
            json: {
              product: {
                sku,
                name: 'Contract test product',
                price: 1,
                status: 2,
                visibility: 1,
                type_id: 'simple',
                attribute_set_id: 4,
              },
            },
          }),
        );
        if (create.status !== 200) return refused('POST V1/products', create);
        created = true;
        const read = guard(await ctx.probe.signed('GET', path, { profile: ctx.profile }));
        if (read.status !== 200 || (read.json as { sku?: string })?.sku !== sku)
          return refused(`GET ${path}`, read);
        const update = guard(
          await ctx.probe.signed('PUT', path, {
            profile: ctx.profile,
            json: { product: { name: 'Contract test product (updated)' } },
          }),
        );
        if (
          update.status !== 200 ||
          (update.json as { name?: string })?.name !== 'Contract test product (updated)'
        ) {
          return refused(`PUT ${path}`, update);
        }
        const removed = guard(await ctx.probe.signed('DELETE', path, { profile: ctx.profile }));
        if (removed.status !== 200) return refused(`DELETE ${path}`, removed);
        created = false;
        const gone = guard(await ctx.probe.signed('GET', path, { profile: ctx.profile }));
        return gone.status === 404
          ? { status: 'pass', detail: `Product ${sku} created, read, updated and deleted.` }
          : { status: 'fail', detail: `After DELETE the product still answers HTTP ${gone.status}.` };
      } finally {
        // Never leave the test product behind.
        if (created) await ctx.probe.signed('DELETE', path, { profile: ctx.profile }).catch(() => undefined);
      }
    },
  },
];
