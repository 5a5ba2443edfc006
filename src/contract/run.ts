import { MagentoNetworkError } from '../magento/errors.js';
import { ImsTokenProvider, type ImsClientCredentials } from '../magento/ims-token.js';
import { RFC_PROFILE, type OAuthCredentials } from '../oauth1/index.js';
import { CHECKS, RateLimited, type Check, type ContractContext, type Outcome } from './checks.js';
import { StoreProbe } from './probe.js';
import { saasChecks } from './saas.js';
import type { CheckResult, Report } from './report.js';

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
  for (const [index, check] of checks.entries()) {
    options.onProgress?.({ index, total: checks.length, check });
    const started = performance.now();
    const outcome = await runOne(check, ctx);
    const result: CheckResult = {
      id: check.id,
      category: check.category,
      name: check.name,
      durationMs: Math.round(performance.now() - started),
      ...withoutUndefined(outcome),
    };
    results.push(result);
    options.onProgress?.({ index, total: checks.length, check, result });
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

async function runOne(check: Check, ctx: ContractContext): Promise<Outcome> {
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
    const network = error instanceof MagentoNetworkError || typeof e.code === 'string';
    return {
      status: 'fail',
      detail: network
        ? `Could not reach the store: ${e.code ?? ''} ${e.message ?? ''}`.trim()
        : `Unexpected error: ${e.message ?? String(error)}`,
      cause: network ? 'The store is down, the URL is wrong, or a firewall blocks this machine.' : undefined,
    };
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
