import { constants } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import path from 'node:path';
import type { IntegrationRecord, SessionEntry, UserRecord } from '../types.js';
import { notADatabase, syncDir, type Snapshot } from './snapshot.js';

/** The format before the journal: one `db.json` rewritten whole on every change. */
interface DbFileV1 {
  version?: 1;
  keyId?: string;
  integrations?: IntegrationRecord[];
  users?: UserRecord[];
  sessions?: Record<string, SessionEntry>;
  documents?: Record<string, { id: string }[]>;
}

export interface V1Content {
  keyId: string | undefined;
  /** Integrations (secrets as stored, encrypted), users and sessions: the `db` journal's collections. */
  db: Snapshot['collections'];
  /** Sync jobs, run log, cursors, alerts, queued jobs: the `sync` journal's collections. */
  sync: Snapshot['collections'];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a version 1 file's content; throws when it is not one. */
export function readV1(data: unknown, file: string): V1Content {
  const d = data as DbFileV1;
  const ok =
    isObject(data) &&
    (d.version === undefined || d.version === 1) &&
    (d.keyId === undefined || typeof d.keyId === 'string') &&
    (d.integrations === undefined ||
      (Array.isArray(d.integrations) && d.integrations.every((r) => typeof r?.consumerKey === 'string'))) &&
    (d.users === undefined || (Array.isArray(d.users) && d.users.every((u) => typeof u?.id === 'string'))) &&
    (d.sessions === undefined || isObject(d.sessions)) &&
    (d.documents === undefined ||
      (isObject(d.documents) &&
        Object.values(d.documents).every(
          (docs) => Array.isArray(docs) && docs.every((doc) => typeof doc?.id === 'string'),
        )));
  if (!ok) throw notADatabase(file);
  return {
    keyId: d.keyId,
    db: {
      integrations: (d.integrations ?? []).map((r) => [r.consumerKey, r]),
      users: (d.users ?? []).map((u) => [u.id, u]),
      sessions: Object.entries(d.sessions ?? {}),
    },
    sync: Object.fromEntries(
      Object.entries(d.documents ?? {}).map(([name, docs]) => [name, docs.map((doc) => [doc.id, doc])]),
    ),
  };
}

/**
 * Keeps the version 1 file as `<file>.migrated-<timestamp>`. A hard link rather than a rename, so that
 * `file` is never absent: the new snapshot then replaces it atomically, and a crash in between leaves the
 * old file in place to be imported again.
 */
export async function keepOriginal(file: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/:/g, '-');
  for (let n = 0; ; n++) {
    const target = `${file}.migrated-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      await link(file, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      // File systems without hard links: a copy, never overwriting.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
      try {
        await copyFile(file, target, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw copyError;
      }
    }
    await syncDir(path.dirname(file));
    return target;
  }
}
