/**
 * What the connector's connections call themselves in pg_stat_activity; a key rotation refuses while
 * any of them is open (see rotate-key.ts).
 */
export const APPLICATION_NAMES = { pool: 'mic', notices: 'mic-notices', jobs: 'mic-jobs' } as const;
