import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { toJunit } from '../contract/junit.js';
import type { CheckResult } from '../contract/report.js';
import { accessCredentials, imsCredentials } from '../activation/store-client.js';
import { DEFAULT_IMS_SCOPES, type ImsClientCredentials } from '../magento/ims-token.js';
import { authModeOf } from '../storage/types.js';
import { promptHidden, readStdinLines } from './prompt.js';
import { buildReport, runContract } from '../contract/run.js';
import { watchActivation } from '../contract/activation-watch.js';
import { createLogger } from '../config/logger.js';
import { startConnector } from '../app/main.js';
import { formatNotRun, formatResult, formatSummary } from '../contract/table.js';
import { painter } from './style.js';
import type { OAuthCredentials } from '../oauth1/index.js';
import { openStoreStorage } from './open-storage.js';
import { configOrExit } from './lifecycle.js';
import { pickIntegration } from './pick-integration.js';
import { usageErrorsExit2 } from './usage.js';

const program = new Command()
  .name('npm run contract --')
  .description(
    'Check, one by one, whether a Magento store behaves as an integrator needs (OAuth, REST, ACL), and why not.',
  )
  .requiredOption(
    '--store <keyOrUrl>',
    'consumer key or store URL of an activated integration (or the store URL with the four values below)',
  )
  .option('--consumer-key <value>', 'consumer key, as the store admin shows it for a manual integration')
  .option('--consumer-secret <value>', 'consumer secret')
  .option('--access-token <value>', 'access token')
  .option('--access-token-secret <value>', 'access token secret')
  .option(
    '--ims-client-id <id>',
    'Adobe Commerce as a Cloud Service: the OAuth Server-to-Server client ID (secret: IMS_CLIENT_SECRET, stdin or a prompt); --store is then the REST base with the tenant id',
  )
  .option('--ims-url <url>', 'IMS token endpoint (default: IMS_TOKEN_URL)')
  .option('--ims-scopes <list>', `IMS scopes (default: IMS_SCOPES or ${DEFAULT_IMS_SCOPES})`)
  .option(
    '--activation',
    'first run the connector and wait for an admin to click Activate/Reauthorize in the store',
    false,
  )
  .option('--activation-timeout <s>', 'how long to wait for that click', (v: string) => Number(v), 300)
  .option('--allow-writes', 'create, update and delete a disabled test product (always cleaned up)', false)
  .option('--json', 'print the report as JSON (schema: docs/contract-report.schema.json)', false)
  .option('--junit <file>', 'also write a JUnit XML report for CI systems')
  .option(
    '--timeout <ms>',
    'per-request timeout',
    (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 100)
        throw new InvalidArgumentError('must be a number of milliseconds, at least 100.');
      return n;
    },
    15_000,
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run contract -- --store http://127.0.0.1:3100
  npm run contract -- --store https://shop.example.com --consumer-key … --consumer-secret … --access-token … --access-token-secret …
  npm run contract -- --store https://shop.example.com --allow-writes --junit contract.xml
  IMS_CLIENT_SECRET=… npm run contract -- --store https://na1.api.commerce.adobe.com/<tenant-id>/ --ims-client-id …

Against a Cloud Service instance the OAuth signature checks are reported as skipped (not applicable)
and IMS checks (token, Bearer call, a wrong token refused) take their place.

Exit code 0 only when no check failed.`,
  )
  .showHelpAfterError();
usageErrorsExit2(program).parse();
const opts = program.opts<{
  store: string;
  consumerKey?: string;
  consumerSecret?: string;
  accessToken?: string;
  accessTokenSecret?: string;
  allowWrites: boolean;
  json: boolean;
  junit?: string;
  timeout: number;
  activation: boolean;
  activationTimeout: number;
  imsClientId?: string;
  imsUrl?: string;
  imsScopes?: string;
}>();

type Target = { storeBaseUrl: string; credentials?: Required<OAuthCredentials>; ims?: ImsClientCredentials };

/** The IMS client secret from the environment (or .env), piped stdin, or a prompt; never argv. */
async function imsSecret(fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const [line] = process.stdin.isTTY ? await promptHidden(['IMS client secret: ']) : await readStdinLines(1);
  if (!line)
    throw new Error('Set IMS_CLIENT_SECRET, pipe the secret on stdin, or run in a terminal to be asked.');
  return line.trim();
}

async function target(): Promise<Target> {
  if (opts.imsClientId) {
    if (!/^https?:\/\//.test(opts.store))
      throw new Error(
        'With --ims-client-id, --store must be the instance REST base URL (with the tenant id).',
      );
    const config = configOrExit();
    return {
      storeBaseUrl: opts.store,
      ims: {
        tokenUrl: opts.imsUrl ?? config.IMS_TOKEN_URL,
        clientId: opts.imsClientId,
        clientSecret: await imsSecret(config.IMS_CLIENT_SECRET),
        scopes: opts.imsScopes ?? config.IMS_SCOPES ?? DEFAULT_IMS_SCOPES,
      },
    };
  }
  const explicit = [opts.consumerKey, opts.consumerSecret, opts.accessToken, opts.accessTokenSecret];
  if (explicit.some(Boolean)) {
    if (!explicit.every(Boolean)) {
      throw new Error(
        'Give all four of --consumer-key, --consumer-secret, --access-token and --access-token-secret, or none.',
      );
    }
    if (!/^https?:\/\//.test(opts.store))
      throw new Error('With explicit credentials, --store must be the store URL.');
    return {
      storeBaseUrl: opts.store,
      credentials: {
        consumerKey: opts.consumerKey as string,
        consumerSecret: opts.consumerSecret as string,
        token: opts.accessToken as string,
        tokenSecret: opts.accessTokenSecret as string,
      },
    };
  }
  const config = configOrExit();
  const storage = await openStoreStorage(config);
  try {
    const record = pickIntegration(await storage.integrations.list(), opts.store);
    return authModeOf(record) === 'ims-server-to-server'
      ? { storeBaseUrl: record.storeBaseUrl, ims: imsCredentials(record) }
      : { storeBaseUrl: record.storeBaseUrl, credentials: accessCredentials(record) };
  } finally {
    await storage.close();
  }
}

/**
 * --activation: this process serves the integration's endpoint URL and identity link (PUBLIC_URL),
 * waits for the admin's click, reports the handshake, then checks the store with the new tokens.
 */
async function activationFirst(log: (line: string) => void) {
  const config = configOrExit();
  // Only watches the handshake: no background sync competing with the checks.
  const connector = await startConnector(
    config,
    createLogger({ level: 'warn', name: 'contract', toStderr: true }),
    {
      sync: false,
    },
  );
  try {
    log(
      `Waiting up to ${opts.activationTimeout} s for Activate or Reauthorize in ${opts.store}.\n` +
        `  Endpoint URL:      ${connector.publicUrl}/magento/callback\n` +
        `  Identity link URL: ${connector.publicUrl}/magento/identity (log in there when the popup opens)\n`,
    );
    const { results, record } = await watchActivation({
      activation: connector.activation,
      integrations: connector.storage.integrations,
      storeOrigin: new URL(opts.store).origin,
      timeoutMs: opts.activationTimeout * 1000,
      identityTimeoutMs: 120_000,
    });
    const credentials = record?.accessToken ? accessCredentials(record) : undefined;
    return { results, credentials, storeBaseUrl: record?.storeBaseUrl ?? opts.store };
  } finally {
    await connector.close();
  }
}

try {
  const startedAt = new Date();
  const tty = process.stderr.isTTY && !opts.json;
  const paint = painter(process.stdout);
  const print = (r: CheckResult) => {
    if (!opts.json) console.log(formatResult(r, paint));
  };
  let earlier: CheckResult[] = [];
  let resolved: Target;
  if (opts.activation) {
    const watched = await activationFirst((line) =>
      opts.json ? process.stderr.write(line) : console.log(line),
    );
    earlier = watched.results;
    earlier.forEach(print);
    resolved = watched;
  } else {
    resolved = await target();
  }
  if (!opts.json) console.log(`Contract checks against ${resolved.storeBaseUrl}\n`);
  const report =
    resolved.credentials || resolved.ims
      ? await runContract({
          storeBaseUrl: resolved.storeBaseUrl,
          credentials: resolved.credentials,
          ims: resolved.ims,
          allowWrites: opts.allowWrites,
          timeoutMs: opts.timeout,
          earlierResults: earlier,
          onProgress: ({ index, total, check, result }) => {
            if (!result) {
              if (tty)
                process.stderr.write(`\r[${index + 1}/${total}] ${check.name}…`.padEnd(100).slice(0, 100));
              return;
            }
            if (tty) process.stderr.write('\r'.padEnd(101) + '\r');
            print(result);
          },
        })
      : buildReport(resolved.storeBaseUrl, startedAt, earlier);
  if (opts.junit) await writeFile(opts.junit, toJunit(report));
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else {
    const notRun = formatNotRun(report);
    if (notRun) console.log(notRun);
    console.log(formatSummary(report) + (opts.junit ? `\nJUnit report: ${opts.junit}` : ''));
  }
  process.exit(report.summary.fail > 0 ? 1 : 0);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
