import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger, logFormat } from '../../src/config/logger.js';
import { formatResult } from '../../src/contract/table.js';
import type { CheckResult } from '../../src/contract/report.js';
import { painter, wantsColour } from '../../src/cli/style.js';
import { runCli } from '../helpers/cli.js';

const ESC = '\u001b[';
const terminal = { isTTY: true, hasColors: () => true };
const pipe = { isTTY: false };

/** A stream the logger takes for a terminal, collecting what is written. */
function fakeStream(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('log format', () => {
  it('is pretty only on a terminal in development; JSON on a pipe and always in production', () => {
    expect(logFormat('development', { isTTY: true })).toBe('pretty');
    expect(logFormat('development', { isTTY: false })).toBe('json');
    expect(logFormat('production', { isTTY: true })).toBe('json');
    expect(logFormat('test', { isTTY: true })).toBe('json');
    expect(logFormat(undefined, { isTTY: true })).toBe('json');
  });

  it('writes readable lines on a development terminal, still redacting secrets', async () => {
    const out = fakeStream(true);
    const logger = createLogger({ nodeEnv: 'development', destination: out.stream, name: 'test' });
    logger.info({ consumerSecret: 'very-secret-value', store: 'shop' }, 'store linked');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text()).toContain('store linked');
    expect(out.text()).not.toContain('very-secret-value');
    expect(() => JSON.parse(out.text().split('\n')[0]!)).toThrow();
  });

  it('writes one JSON object per line in production, even on a terminal', async () => {
    const out = fakeStream(true);
    const logger = createLogger({ nodeEnv: 'production', destination: out.stream });
    logger.info({ consumerSecret: 'very-secret-value' }, 'store linked');
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(out.text().trim()) as { msg: string; consumerSecret: string };
    expect(line.msg).toBe('store linked');
    expect(line.consumerSecret).toBe('[redacted]');
  });
});

describe('colour', () => {
  it('only on a terminal that takes colours, never under NO_COLOR', () => {
    expect(wantsColour(terminal, {})).toBe(true);
    expect(wantsColour(terminal, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(pipe, {})).toBe(false);
    expect(wantsColour({ isTTY: true, hasColors: () => false }, {})).toBe(false);
    expect(painter(terminal, {})('green', 'ok')).toBe(`${ESC}32mok${ESC}39m`);
    expect(painter(terminal, { NO_COLOR: '1' })('green', 'ok')).toBe('ok');
  });

  it('colours contract verdicts when asked, and leaves them plain by default', () => {
    const result: CheckResult = {
      id: 'oauth.request-token',
      name: 'request token',
      status: 'fail',
      durationMs: 3,
      detail: 'refused',
    } as CheckResult;
    expect(formatResult(result, painter(terminal, {})).startsWith(`${ESC}31mFAIL${ESC}39m  oauth`)).toBe(
      true,
    );
    expect(formatResult(result)).toMatch(/^FAIL {2}oauth/);
  });
});

describe('npm run bench arguments', () => {
  const bench = (args: string[]) => runCli('bench', args, { NODE_ENV: 'test' });

  it('prints its help with exit code 0', async () => {
    const run = await bench(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run bench -- \[group \.\.\.\] \[options\]/);
  }, 30_000);

  it('refuses an unknown option, an unknown group, a missing or bad value with exit code 2', async () => {
    const runs = await Promise.all([
      bench(['--fast']),
      bench(['sync', 'everything']),
      bench(['scale', '--sizes']),
      bench(['crash', '--rounds', 'many']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(runs[0]!.stderr).toContain('Unknown option --fast.');
    expect(runs[1]!.stderr).toContain('Unknown group everything: the groups are simulator,');
    expect(runs[2]!.stderr).toContain('--sizes needs a value');
    expect(runs[3]!.stderr).toContain('--rounds takes a whole number above 0 (got many).');
    // Nothing was run: no JSON report.
    expect(runs.map((r) => r.stdout)).toEqual(['', '', '', '']);
  }, 60_000);
});
