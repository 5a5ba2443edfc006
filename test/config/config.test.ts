import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { REDACT_PATHS } from '../../src/config/logger.js';

describe('configuration', () => {
  it('applies defaults for an empty environment', () => {
    const config = parseConfig({});
    expect(config.SIMULATOR_PORT).toBe(3100);
    expect(config.SIMULATOR_MAGENTO_VERSION).toBe('2.4.8');
    expect(config.SIMULATOR_BEARER).toBe(false);
    expect(config.SIMULATOR_PRODUCTS).toBe(200);
  });

  it('coerces values from strings', () => {
    const config = parseConfig({
      SIMULATOR_PORT: '4000',
      SIMULATOR_BEARER: 'true',
      SIMULATOR_PRODUCTS: '100000',
    });
    expect(config).toMatchObject({
      SIMULATOR_PORT: 4000,
      SIMULATOR_BEARER: true,
      SIMULATOR_PRODUCTS: 100000,
    });
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      parseConfig({
        SIMULATOR_PORT: 'eighty',
        SIMULATOR_MAGENTO_VERSION: '2.2',
        SIMULATOR_BASE_URL: 'ftp://x',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/SIMULATOR_PORT/);
      expect(message).toMatch(/SIMULATOR_MAGENTO_VERSION/);
      expect(message).toMatch(/SIMULATOR_BASE_URL: must be an http\(s\) URL/);
    }
  });

  it('takes a postgres:// or postgresql:// DATABASE_URL and refuses others without echoing them', () => {
    expect(parseConfig({}).DATABASE_URL).toBeUndefined();
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app' }).DATABASE_URL).toBe(
      'postgres://u:p@db:5432/app',
    );
    expect(parseConfig({ DATABASE_URL: 'postgresql://db/app' }).DATABASE_URL).toBe('postgresql://db/app');
    for (const bad of ['mysql://u:s3cret@db/app', 'db.example.com:5432']) {
      let message = '';
      try {
        parseConfig({ DATABASE_URL: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      expect(message).not.toContain('s3cret');
    }
  });

  it('treats an empty value as unset', () => {
    expect(parseConfig({ SIMULATOR_BASE_URL: '' }).SIMULATOR_BASE_URL).toBeUndefined();
  });
});

describe('logger redaction', () => {
  it('never writes secrets, signatures, passwords or session ids', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    logger.info({
      integration: { consumerSecret: 'cs-SECRET-1', tokenSecret: 'ts-SECRET-2', name: 'kept' },
      oauth_signature: 'sig-SECRET-3',
      password: 'pw-SECRET-4',
      sessionId: 'sid-SECRET-5',
      req: { headers: { authorization: 'OAuth oauth_signature="SECRET-6"', cookie: 'connect.sid=SECRET-7' } },
    });
    const out = lines.join('');
    expect(out).not.toMatch(/SECRET/);
    expect(out).toContain('kept');
    expect(out.match(/\[redacted\]/g)?.length).toBe(7);
  });
});
