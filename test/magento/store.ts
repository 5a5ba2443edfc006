import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';

/** Test plumbing shared by the oauth1 and magento tests: the simulator as a real store, and tiny servers. */

export interface StoreCredentials {
  consumerKey: string;
  consumerSecret: string;
  token: string;
  tokenSecret: string;
}

export async function startStore(
  options: Parameters<typeof startSimulator>[0] = {},
): Promise<RunningSimulator> {
  return startSimulator({ port: 0, products: 60, customers: 5, orders: 5, ...options });
}

/** A seeded PRNG (mulberry32) so fault injection gives the same sequence every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ScriptedAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A loopback server whose answers a test scripts; it records every request it gets. */
export async function scriptedServer(answer: (req: SeenRequest, index: number) => ScriptedAnswer) {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      const out = answer(request, seen.length - 1);
      res.writeHead(out.status, out.headers);
      res.end(out.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `OAuth k="v", …` → decoded fields. */
export function parseOAuthHeader(header: string | undefined): Record<string, string> {
  if (!header?.startsWith('OAuth ')) throw new Error(`not an OAuth header: ${header}`);
  const fields: Record<string, string> = {};
  for (const part of header.slice('OAuth '.length).split(', ')) {
    const eq = part.indexOf('=');
    fields[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 2, -1));
  }
  return fields;
}
