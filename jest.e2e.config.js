import base from './jest.config.js';

/** Browser tests: Debian's Chromium driven by playwright-core; kept out of `npm test`. */
export default {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
  testTimeout: 90000,
  maxWorkers: 1,
};
