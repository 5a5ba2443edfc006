import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { DEMO_EMAIL, startTestConnector } from '../helpers/connector.js';

describe('TRUST_PROXY', () => {
  it('takes a hop count, proxy addresses, CIDRs or express keywords; off when unset or false', () => {
    expect(parseConfig({}).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '0' }).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(parseConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(parseConfig({ TRUST_PROXY: 'loopback' }).TRUST_PROXY).toEqual(['loopback']);
    expect(parseConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8' }).TRUST_PROXY).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    expect(parseConfig({ TRUST_PROXY: 'loopback,linklocal,uniquelocal' }).TRUST_PROXY).toEqual([
      'loopback',
      'linklocal',
      'uniquelocal',
    ]);
  });

  it('refuses true, explaining why and what to write instead', () => {
    for (const value of ['true', 'yes', 'TRUE']) {
      expect(() => parseConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
      expect(() => parseConfig({ TRUST_PROXY: value })).toThrow(/X-Forwarded-For.*TRUST_PROXY=1/s);
    }
  });

  it('refuses entries that are not addresses, CIDRs or keywords', () => {
    for (const value of ['proxy.example.com', '10.0.0.0/33', '-1', '1.5', 'loopback,nonsense']) {
      expect(() => parseConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
    }
  });

  it('with TRUST_PROXY=1, rotating the leftmost X-Forwarded-For entry does not escape the login limiter', async () => {
    const t = await startTestConnector({ TRUST_PROXY: '1', LOGIN_RATE_LIMIT: '10' });
    try {
      const agent = request.agent(t.connector.url);
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const page = await agent.get('/login');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
        // The proxy appends the real client (203.0.113.7); the client made up the entry before it.
        const res = await agent
          .post('/login')
          .set('x-forwarded-for', `198.51.100.${i + 1}, 203.0.113.7`)
          .type('form')
          .send({ _csrf: csrf, email: DEMO_EMAIL, password: `wrong attempt ${i}` });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
    } finally {
      await t.close();
    }
  }, 60_000);
});
