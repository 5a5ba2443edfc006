import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so `--import tsx` and `src/...` resolve. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TsxChild {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
  /** Signals the whole process group, so anything the child started goes too. */
  kill: (signal?: NodeJS.Signals) => void;
  /** Pids still alive in the child's process group (empty once it is really gone). */
  survivors: () => number[];
  onStdoutLine: (listener: (line: string) => void) => void;
}

/** Runs `node --import tsx <script>` in its own process group, capturing its output. */
export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): TsxChild {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    // Only what we pass: no NODE_OPTIONS from a test runner, no stray DATABASE_URL.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  const pid = child.pid;
  let out = '';
  let err = '';
  let partial = '';
  const lineListeners: ((line: string) => void)[] = [];
  child.stdout?.on('data', (c: Buffer) => {
    const text = c.toString();
    out = (out + text).slice(-1_000_000);
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const l of lineListeners) l(line);
  });
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-200_000);
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') => {
      try {
        process.kill(-pid, signal);
      } catch (error) {
        // ESRCH: the group is already gone.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    survivors: () => processGroupMembers(pid),
    onStdoutLine: (listener) => lineListeners.push(listener),
  };
}

/** Live (non-zombie) pids whose process group is `pgid`, from `ps`. */
export function processGroupMembers(pgid: number): number[] {
  const text = execFileSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, g, stat]) => Number(g) === pgid && !stat?.startsWith('Z'))
    .map(([p]) => Number(p));
}

/** Resolves with the first stdout match, or rejects when the process exits first or time runs out. */
export function waitForOutput(p: TsxChild, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr: ${p.stderr().slice(-2000)}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const m = pattern.exec(p.stdout());
      if (m) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(m);
      }
    }, 20);
    void p.exited.then((exit) => {
      clearTimeout(timer);
      clearInterval(poll);
      const m = pattern.exec(p.stdout());
      if (m) resolve(m);
      else
        reject(
          new Error(
            `process exited (${exit.code ?? exit.signal}) before ${pattern}; stderr: ${p.stderr().slice(-2000)}`,
          ),
        );
    });
  });
}
