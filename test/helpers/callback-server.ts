import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedCallback {
  headers: http.IncomingHttpHeaders;
  body: string;
  fields: Record<string, string>;
}

/** Stands in for an integrator's endpoint URL: records every POST the store sends it. */
export async function startCallbackServer(
  answer: { status?: number; delayMs?: number; location?: string } = {},
) {
  const received: CapturedCallback[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ headers: req.headers, body, fields: Object.fromEntries(new URLSearchParams(body)) });
      setTimeout(() => {
        res.statusCode = answer.status ?? 200;
        if (answer.location) res.setHeader('location', answer.location);
        res.end('ok');
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/magento/callback`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type CallbackServer = Awaited<ReturnType<typeof startCallbackServer>>;
