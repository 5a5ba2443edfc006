import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** Magento releases whose OAuth behaviour the simulator can reproduce (contract file §0, §4.6). */
export const MAGENTO_VERSIONS = ['2.4.3', '2.4.6', '2.4.8'] as const;
export type MagentoVersion = (typeof MAGENTO_VERSIONS)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const count = (max: number) => z.coerce.number().int().min(0).max(max);

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

/** Express's `trust proxy`: off, a hop count, or the proxies' addresses, CIDRs and keywords. */
export type TrustProxySetting = false | number | string[];

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`: strict forms only (no `10.1` or `0x0a.1`). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Which X-Forwarded-For entries to believe. `true` (believe all) is refused: the leftmost entry is
 * whatever the client wrote, so every per-address limit could be escaped by changing it.
 */
const trustProxy = z.string().transform((raw, ctx): TrustProxySetting => {
  const value = raw.trim().toLowerCase();
  if (value === 'false' || value === 'no' || value === '0') return false;
  if (value === 'true' || value === 'yes') {
    ctx.addIssue({
      code: 'custom',
      message:
        'true would trust every X-Forwarded-For entry, and a client can write any address there to escape the ' +
        'login and callback limits. Write the number of proxies in front of the app (TRUST_PROXY=1 for one), ' +
        'or their addresses (TRUST_PROXY=loopback, or 127.0.0.1,10.0.0.0/8).',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops <= 32) return hops;
  }
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !PROXY_KEYWORDS.has(e) && !isAddressOrCidr(e));
  if (entries.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        `"${bad.join(', ') || raw}" is not a hop count, an IP address, a CIDR or one of loopback, linklocal, ` +
        'uniquelocal (e.g. TRUST_PROXY=1 or TRUST_PROXY=127.0.0.1,10.0.0.0/8).',
    });
    return z.NEVER;
  }
  return entries;
});

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  /** Where stores and browsers reach the connector; endpoint and identity-link URLs derive from it. */
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().min(1).default('data'),
  /** PostgreSQL instead of the embedded files (several instances, large stores). */
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  TOKEN_ENCRYPTION_KEY: z.string().optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  STORE_URL_ALLOWLIST: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  TRUST_PROXY: trustProxy.default(false),
  DEMO_USER_EMAIL: z.email('must be an email address').default('demo@example.com'),
  DEMO_USER_PASSWORD: z.string().min(10, 'must be at least 10 characters').optional(),
  MAGENTO_SIGNATURE_METHOD: z.enum(['HMAC-SHA256', 'HMAC-SHA1']).default('HMAC-SHA256'),
  /** How long the identity-link page waits for the store's callback before explaining. */
  CALLBACK_WAIT_SECONDS: z.coerce.number().min(0).max(60).default(10),
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(10),
  /**
   * Seconds between runs per entity, e.g. "products=900,customers=3600,orders=300"; 0 turns one off.
   * Customer groups and stock have no updated_at, so each of their runs is a full scan.
   */
  SYNC_INTERVALS: z
    .string()
    .default(
      'products=900,customers=3600,orders=300,customer_groups=86400,shipments=900,categories=3600,stock=900',
    )
    .transform((v, ctx) => {
      const out: Record<string, number> = {};
      for (const part of v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [entity, seconds] = part.split('=');
        const n = Number(seconds);
        if (!entity || !Number.isInteger(n) || n < 0) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not entity=seconds` });
          return z.NEVER;
        }
        out[entity.trim()] = n;
      }
      return out;
    }),
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  /** Sync runs one process works at once (one per store and entity across every instance). */
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(4),
  /**
   * A sync run works this long per job, then continues in a new one: a run on an instance that died is
   * taken over after about three times this.
   */
  SYNC_SLICE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** PostgreSQL: how often the job queue looks for jobs whose instance died (pg-boss maintenance). */
  JOB_EXPIRY_CHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** On SIGTERM, how long running token exchanges may finish before storage closes (they resume at start). */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  /** IMS token endpoint for Cloud Service stores added without --ims-url (Adobe's; the simulator's in demos). */
  IMS_TOKEN_URL: httpUrl.default('https://ims-na1.adobelogin.com/ims/token/v3'),
  /**
   * Inputs of `npm run store -- add-saas|add-manual`, named as Adobe's starter kit and samples name
   * them, so a .env written for those works; secrets come from here or a prompt, never argv.
   */
  IMS_CLIENT_ID: z.string().optional(),
  IMS_CLIENT_SECRET: z.string().optional(),
  IMS_SCOPES: z.string().optional(),
  COMMERCE_BASE_URL: z.string().optional(),
  COMMERCE_CONSUMER_KEY: z.string().optional(),
  COMMERCE_CONSUMER_SECRET: z.string().optional(),
  COMMERCE_ACCESS_TOKEN: z.string().optional(),
  COMMERCE_ACCESS_TOKEN_SECRET: z.string().optional(),

  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: port.default(3100),
  SIMULATOR_BASE_URL: httpUrl.optional(),
  SIMULATOR_MAGENTO_VERSION: z.enum(MAGENTO_VERSIONS).default('2.4.8'),
  SIMULATOR_BEARER: bool.default(false),
  SIMULATOR_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SIMULATOR_SEED: z.coerce.number().int().default(42),
  SIMULATOR_PRODUCTS: count(1_000_000).default(200),
  SIMULATOR_CUSTOMERS: count(1_000_000).default(50),
  SIMULATOR_ORDERS: count(1_000_000).default(100),
  SIMULATOR_CONSUMER_EXPIRY_SECONDS: z.coerce.number().int().positive().default(300),
  SIMULATOR_CALLBACK_TIMEOUT_SECONDS: z.coerce.number().positive().default(5),
  /** Behave as Adobe Commerce as a Cloud Service: REST under /<tenant>/V1, IMS Bearer tokens only. */
  SIMULATOR_SAAS: bool.default(false),
  SIMULATOR_TENANT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/, 'must be 3-64 letters, digits, - or _')
    .default('simtenant'),
  /** The IMS client registered at start in SaaS mode; its secret is generated (and printed) when empty. */
  SIMULATOR_IMS_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 letters, digits, - or _')
    .default('simulator-ims-client'),
  SIMULATOR_IMS_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SIMULATOR_IMS_TOKEN_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(86_400),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates an environment; the message names every bad variable so a failed start says what to fix. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (see .env.example):\n${lines.join('\n')}`);
  }
  return result.data;
}

let loaded: Config | undefined;

/**
 * The process configuration, read once. A `.env` file in the working directory is loaded with
 * Node's own loader; variables already set in the environment win over it.
 */
export function loadConfig(envFile = '.env'): Config {
  if (loaded) return loaded;
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  loaded = parseConfig(process.env);
  return loaded;
}
