import { execFile } from 'node:child_process';

/** A listen error for an address another process holds (EADDRINUSE), with the address it was for. */
export function isPortInUse(error: unknown): error is NodeJS.ErrnoException & { port?: number } {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** A port to suggest instead of one that is taken. */
export const anotherPort = (port: number): number => (port < 65535 ? port + 1 : port - 1);

/** What answers on host:port: our own connector answers /healthz with its storage kind. */
async function whatAnswers(host: string, port: number): Promise<string | undefined> {
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json().catch(() => undefined)) as { storage?: unknown } | undefined;
    if (typeof body?.storage === 'string') return 'a connector (another `npm start` or `npm run demo`)';
    const admin = await fetch(`${origin}/admin/integrations`, { signal: AbortSignal.timeout(1500) });
    if (admin.ok && (await admin.text()).includes('Magento Admin (simulator)')) {
      return 'a store simulator (another `npm run simulator` or `npm run demo`)';
    }
    return 'an HTTP server';
  } catch {
    return undefined;
  }
}

/** The listening process's id and command, where lsof is installed and may see it. */
function whoListens(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { timeout: 2000 }, (error, stdout) => {
      // lsof exits 1 when it sees nothing (another user's process, or not installed).
      const pid = /^p(\d+)$/m.exec(stdout ?? '')?.[1];
      const command = /^c(.+)$/m.exec(stdout ?? '')?.[1];
      resolve(
        error && !pid ? undefined : pid ? `process ${pid}${command ? ` (${command})` : ''}` : undefined,
      );
    });
  });
}

/**
 * The message for a port someone else holds: which address, who holds it as far as can be told,
 * what to stop, and the flag or variable that picks another port.
 */
export async function portInUseMessage(options: {
  /** What could not start, e.g. "The connector". */
  what: string;
  host: string;
  port: number;
  /** How to pick another port, e.g. "PORT=3001 npm start". */
  otherPort: string;
}): Promise<string> {
  const { host, port } = options;
  const [answers, process_] = await Promise.all([whatAnswers(host, port), whoListens(port)]);
  const holder = [answers, process_].filter(Boolean).join(', ');
  const pid = process_ ? /process (\d+)/.exec(process_)?.[1] : undefined;
  return [
    `${options.what} cannot listen on ${host}:${port}: the port is already in use.`,
    `  Held by: ${holder || `another process (see which with: lsof -nP -iTCP:${port} -sTCP:LISTEN)`}.`,
    `  Fix: stop it (Ctrl-C in its terminal${pid ? `, or kill ${pid}` : ''}), or pick another port: ${options.otherPort}`,
  ].join('\n');
}
