import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestConnector } from '../helpers/connector.js';
import type { CorpusEntry } from './generate-corpus.js';

/**
 * The corpus (malformed-requests.json, written by generate-corpus.ts) sent to a real production
 * connector: every request gets a 4xx with a short reason, none a 5xx, and nothing stored changes.
 */
const corpus = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'malformed-requests.json'), 'utf8'),
) as CorpusEntry[];

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;
let t: TestConnector;

beforeAll(async () => {
  t = await startTestConnector({ NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32) });
});
afterAll(async () => {
  await t.close();
});

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Byte for byte, from its own loopback address, so per-client limits do not mix the cases up. */
function send(entry: CorpusEntry, index: number): Promise<Answer> {
  const base = new URL(t.connector.url);
  const body = entry.body === undefined ? undefined : Buffer.from(entry.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: entry.method,
        path: entry.path,
        localAddress: `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`,
        agent: false,
        headers: { ...entry.headers, ...(body ? { 'content-length': body.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The reason: a JSON `error`, or the message paragraph of an HTML error page. */
function reasonOf(answer: Answer): string | undefined {
  if (answer.contentType.includes('json')) {
    return (JSON.parse(answer.body) as { error?: string }).error;
  }
  const html = /<p class="message error">([\s\S]*?)<\/p>/.exec(answer.body)?.[1];
  return html?.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] ?? m);
}

/**
 * Sentences in a reason. The callback answers with one; identity-link pages may add a second saying
 * what to do next (their wording lives with those routes and the error handler).
 */
const sentences = (reason: string) => reason.split(/[.!?](?:\s|$)/).filter((s) => s.trim()).length;

async function snapshot() {
  const integrations = await t.connector.storage.integrations.list();
  const users = await t.connector.storage.users.list();
  return { integrations, users };
}

describe('malformed callback and identity-link requests', () => {
  it('the corpus holds at least 250 requests', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(250);
  });

  it('each gets a 4xx with a short reason (one sentence from the callback), none a 5xx, and stored data stays the same', async () => {
    const before = await snapshot();
    const problems: string[] = [];
    const batch = 16;
    for (let start = 0; start < corpus.length; start += batch) {
      const slice = corpus.slice(start, start + batch);
      const answers = await Promise.all(slice.map((entry, i) => send(entry, start + i)));
      answers.forEach((answer, i) => {
        const entry = slice[i] as CorpusEntry;
        const reason = reasonOf(answer);
        const where = `${entry.name} → HTTP ${answer.status}: ${JSON.stringify(reason ?? answer.body.slice(0, 120))}`;
        if (answer.status < 400 || answer.status >= 500) problems.push(`not a 4xx: ${where}`);
        else if (!reason || reason.length > 400 || /\n/.test(reason) || !/[.!?]$/.test(reason)) {
          problems.push(`no short reason: ${where}`);
        } else if (/\bat .+:\d+:\d+|Error:/.test(reason)) problems.push(`a stack trace: ${where}`);
        else if (sentences(reason) > (entry.path.startsWith('/magento/callback') ? 1 : 2)) {
          problems.push(`too many sentences: ${where}`);
        }
      });
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 120_000);
});
