import type { IntegrationRecord } from '../storage/types.js';

/** The linked store a command should use: by consumer key or store URL, or the only one there is. */
export function pickIntegration(records: IntegrationRecord[], wanted: string | undefined): IntegrationRecord {
  const usable = records.filter((r) => r.status === 'active' || r.status === 'needs_reauth');
  const matches = wanted
    ? usable.filter(
        (r) =>
          r.consumerKey === wanted ||
          r.storeOrigin === wanted.replace(/\/+$/, '') ||
          r.storeBaseUrl === wanted,
      )
    : usable;
  if (matches.length === 1) return matches[0] as IntegrationRecord;
  const list =
    usable.map((r) => `  ${r.consumerKey}  ${r.storeOrigin}  (${r.status})`).join('\n') || '  (none)';
  throw new Error(
    matches.length === 0
      ? `No active integration${wanted ? ` matches ${wanted}` : ''}. Linked stores:\n${list}`
      : `Several stores are linked; choose one with --store:\n${list}`,
  );
}
