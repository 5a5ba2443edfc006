import { AppError } from '../errors.js';
import { MagentoNetworkError, redactUrl } from '../magento/errors.js';
import { ImsTokenProvider, type ImsClientCredentials } from '../magento/ims-token.js';
import { RFC_PROFILE, type OAuthCredentials } from '../oauth1/index.js';
import { CHECKS, RateLimited, type Check, type ContractContext, type Outcome } from './checks.js';
import { StoreProbe } from './probe.js';
import { saasChecks } from './saas.js';
import { NOT_RUN, type CheckResult, type Report } from './report.js';

export interface ContractOptions {
  /** For a Cloud Service instance, its REST base `https://host/<tenant-id>/`. */
  storeBaseUrl: string;
  /** An OAuth 1.0a integration's four values; or `ims` for Adobe Commerce as a Cloud Service. */
  credentials?: Required<OAuthCredentials>;
  ims?: ImsClientCredentials;
  allowWrites?: boolean;
  timeoutMs?: number;
  /** Results already known, reported first (the activation watch). */
  earlierResults?: CheckResult[];
  onProgress?: (event: { index: number; total: number; check: Check; result?: CheckResult }) => void;
}

/** Runs every check in order; a check never throws: its failure is its result. */
export async function runContract(options: ContractOptions): Promise<Report> {
  const base = options.storeBaseUrl.endsWith('/') ? options.storeBaseUrl : `${options.storeBaseUrl}/`;
  const probe = options.ims
    ? StoreProbe.forIms(
        base,
        new ImsTokenProvider({ ...options.ims, timeoutMs: options.timeoutMs }),
        options.timeoutMs,
      )
    : options.credentials
      ? new StoreProbe(base, options.credentials, options.timeoutMs)
      : undefined;
  if (!probe) throw new TypeError('runContract needs OAuth credentials or IMS client credentials.');
  const ctx: ContractContext = {
    probe,
    allowWrites: options.allowWrites ?? false,
    signingWorks: true,
    profile: RFC_PROFILE,
    granted: new Map(),
  };
  const checks = options.ims ? saasChecks(CHECKS) : CHECKS;
  const startedAt = new Date();
  const results: CheckResult[] = [...(options.earlierResults ?? [])];
  /** The check that found the store unreachable before it ever answered: the rest cannot run. */
  let unreachableAt: string | undefined;
  for (const [index, check] of checks.entries()) {
    if (unreachableAt) {
      results.push({
        id: check.id,
        category: check.category,
        name: check.name,
        status: 'skip',
        durationMs: 0,
        detail: `${NOT_RUN} the store could not be reached (see ${unreachableAt}).`,
      });
      continue;
    }
    options.onProgress?.({ index, total: checks.length, check });
    const started = performance.now();
    const { unreachable, ...outcome } = await runOne(check, ctx, options.timeoutMs);
    const result: CheckResult = {
      id: check.id,
      category: check.category,
      name: check.name,
      durationMs: Math.round(performance.now() - started),
      ...withoutUndefined(outcome),
    };
    results.push(result);
    options.onProgress?.({ index, total: checks.length, check, result });
    // Once the store has answered, a network error is one check's trouble, not the whole run's.
    if (unreachable && probe.answers === 0) unreachableAt = check.id;
  }
  return buildReport(base, startedAt, results);
}

export function buildReport(store: string, startedAt: Date, results: CheckResult[]): Report {
  const finishedAt = new Date();
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return {
    schemaVersion: 1,
    store,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    summary: { pass: count('pass'), fail: count('fail'), warn: count('warn'), skip: count('skip') },
    checks: results,
  };
}

async function runOne(
  check: Check,
  ctx: ContractContext,
  timeoutMs = 15_000,
): Promise<Outcome & { unreachable?: boolean }> {
  if (check.needsSigning && !ctx.signingWorks) {
    return { status: 'skip', detail: 'Skipped: signed calls do not work at all (see sign.sha256).' };
  }
  try {
    return await check.run(ctx);
  } catch (error) {
    if (error instanceof RateLimited) {
      return {
        status: 'warn',
        detail: `The store answered 429 Too Many Requests${error.retryAfter ? ` (Retry-After: ${error.retryAfter} s)` : ''}; the check could not finish.`,
        cause: 'Rate limiting by the store or a proxy/WAF in front of it.',
        fix: 'Run again later or from an allowed address; clients must honour Retry-After and back off.',
      };
    }
    const e = error as { code?: string; message?: string };
    // A socket error (got's and node's carry a string code); a domain error's code says something else.
    const network =
      error instanceof MagentoNetworkError || (!(error instanceof AppError) && typeof e.code === 'string');
    if (!network) return { status: 'fail', detail: `Unexpected error: ${e.message ?? String(error)}` };
    return { status: 'fail', unreachable: true, ...unreachableOutcome(error, timeoutMs) };
  }
}

/** A request that got no answer, named by its cause (refused, DNS, timeout, TLS …) and its URL. */
export function unreachableOutcome(error: unknown, timeoutMs: number): Omit<Outcome, 'status'> {
  const e = error as { code?: string; message?: string; url?: string; options?: { url?: unknown } };
  const raw = e.url ?? (e.options?.url ? String(e.options.url) : undefined);
  const url = raw ? redactUrl(raw) : 'the store';
  const parsed = URL.canParse(raw ?? '') ? new URL(raw as string) : undefined;
  const host = parsed?.host ?? 'the store';
  const code = e.code ?? '';
  const reason = (what: string, cause: string, fix: string) => ({
    detail: `Could not reach ${url}: ${what} (${code || e.message}).`,
    cause,
    fix,
  });
  const checkUrl = 'Check --store (scheme, host and port) against the URL the store runs under.';
  if (code === 'ECONNREFUSED')
    return reason(
      `connection refused by ${host}`,
      'Nothing listens at that host and port: the store is down, or the port is wrong.',
      'Start the store, or correct the host and port in --store.',
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return reason(
      `DNS lookup of ${parsed?.hostname ?? 'the host'} failed`,
      "The host name is misspelt, or this machine's DNS does not know it (a VPN, or an /etc/hosts entry, missing).",
      checkUrl,
    );
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT')
    return reason(
      `no answer within ${timeoutMs} ms`,
      'A firewall drops the traffic, the address is wrong, or the store is overloaded.',
      `${checkUrl} A slow store: a longer --timeout.`,
    );
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return reason(
      `no route to ${host}`,
      'The network path to the store is down, or the address is private to another network.',
      `${checkUrl} Check this machine's network (VPN).`,
    );
  if (code === 'ECONNRESET')
    return reason(
      'the connection was reset',
      'A proxy or firewall closed it, or the port speaks another protocol (https at an http URL?).',
      checkUrl,
    );
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return reason(
      'its TLS certificate was not accepted',
      'The certificate is self-signed, expired, or for another host name.',
      'Use the host name the certificate names; for a private CA, set NODE_EXTRA_CA_CERTS to its PEM file.',
    );
  return reason(
    'no answer',
    'The store is down, the URL is wrong, or a firewall blocks this machine.',
    checkUrl,
  );
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
