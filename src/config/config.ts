import { existsSync } from 'node:fs';
import { z } from 'zod';

/** Magento releases whose OAuth behaviour the simulator can reproduce (contract file §0, §4.6). */
export const MAGENTO_VERSIONS = ['2.4.3', '2.4.6', '2.4.8'] as const;
export type MagentoVersion = (typeof MAGENTO_VERSIONS)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const count = (max: number) => z.coerce.number().int().min(0).max(max);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: port.default(3100),
  SIMULATOR_BASE_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  SIMULATOR_MAGENTO_VERSION: z.enum(MAGENTO_VERSIONS).default('2.4.8'),
  SIMULATOR_BEARER: bool.default(false),
  SIMULATOR_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SIMULATOR_SEED: z.coerce.number().int().default(42),
  SIMULATOR_PRODUCTS: count(1_000_000).default(200),
  SIMULATOR_CUSTOMERS: count(1_000_000).default(50),
  SIMULATOR_ORDERS: count(1_000_000).default(100),
  SIMULATOR_CONSUMER_EXPIRY_SECONDS: z.coerce.number().int().positive().default(300),
  SIMULATOR_CALLBACK_TIMEOUT_SECONDS: z.coerce.number().positive().default(5),
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
