import type { IntegrationRecord } from '../storage/types.js';

/** A store the connector can call (a refused token still names the store to reauthorize). */
export const isLinked = (r: IntegrationRecord): boolean =>
  r.status === 'active' || r.status === 'needs_reauth';

/** Whether `wanted` (a consumer key, or the store's URL with or without its path's trailing slash) names this record. */
export function matchesStore(r: IntegrationRecord, wanted: string): boolean {
  const url = wanted.replace(/\/+$/, '');
  return r.consumerKey === wanted || r.storeOrigin === url || r.storeBaseUrl.replace(/\/+$/, '') === url;
}

/** The linked store a command should use: by consumer key or store URL, or the only one there is. */
export function pickIntegration(records: IntegrationRecord[], wanted: string | undefined): IntegrationRecord {
  const usable = records.filter(isLinked);
  const matches = wanted ? usable.filter((r) => matchesStore(r, wanted)) : usable;
  if (matches.length === 1) return matches[0] as IntegrationRecord;
  const list =
    usable.map((r) => `  ${r.consumerKey}  ${r.storeOrigin}  (${r.status})`).join('\n') || '  (none)';
  throw new Error(
    matches.length === 0
      ? `No active integration${wanted ? ` matches ${wanted}` : ''}. Linked stores:\n${list}`
      : `Several stores are linked; choose one with --store:\n${list}`,
  );
}
