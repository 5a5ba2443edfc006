import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CHECKS, type ContractContext } from '../../src/contract/checks.js';
import { StoreProbe, tamperSignature } from '../../src/contract/probe.js';
import { RFC_PROFILE } from '../../src/oauth1/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

describe('tamperSignature', () => {
  it('always changes a signature, keeping it valid base64 of the same length', () => {
    const signatures: string[] = [];
    for (let i = 0; i < 2000; i++) signatures.push(randomBytes(i % 2 ? 32 : 20).toString('base64'));
    // Signatures that already start with the letter a naive tamper would write.
    for (let i = 0; i < 200; i++) signatures.push(`A${randomBytes(32).toString('base64').slice(1)}`);
    for (const signature of signatures) {
      const tampered = tamperSignature(signature);
      expect(tampered).not.toBe(signature);
      expect(tampered).toHaveLength(signature.length);
      expect(tampered).toMatch(BASE64);
      expect(Buffer.from(tampered, 'base64')).toHaveLength(Buffer.from(signature, 'base64').length);
    }
  });
});

describe('the bearer check with credentials that do not work', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, products: 3, customers: 1, orders: 1 });
  });
  afterAll(() => sim.close());

  it('does not pass', async () => {
    const fake = {
      consumerKey: 'k'.repeat(32),
      consumerSecret: 's'.repeat(32),
      token: 't'.repeat(32),
      tokenSecret: 'u'.repeat(32),
    };
    // Run on its own, as if the signing check had not run before it.
    const ctx: ContractContext = {
      probe: new StoreProbe(`${sim.url}/`, fake, 5000),
      allowWrites: false,
      signingWorks: true,
      profile: RFC_PROFILE,
      granted: new Map(),
    };
    const bearer = CHECKS.find((c) => c.id === 'bearer')!;
    expect(bearer.needsSigning).toBe(true);
    const outcome = await bearer.run(ctx);
    expect(outcome.status).not.toBe('pass');
    expect(outcome.detail).toMatch(/not run/i);
  });
});
