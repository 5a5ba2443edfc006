import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulator, type Simulator, type SimulatorOptions } from './app.js';

export interface RunningSimulator extends Simulator {
  /** Where it listens, without a trailing slash, e.g. http://127.0.0.1:3100 */
  url: string;
  server: Server;
  close: () => Promise<void>;
}

/** Starts the simulator on host:port (port 0 picks a free one; tests use that). */
export async function startSimulator(
  options: SimulatorOptions & { host?: string; port?: number } = {},
): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const sim = createSimulator(options);
  // Express 5 hands a listen error (EADDRINUSE) to this callback instead of emitting it.
  const server = await new Promise<Server>((resolve, reject) => {
    const s = sim.app.listen(options.port ?? 3100, host, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!options.baseUrl) sim.setBaseUrl(`${url}/`);
  return {
    ...sim,
    url,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
