import { createDefaultEsmPreset } from 'ts-jest';

/** ts-jest in ESM mode; types are checked by `npm run typecheck`, not here. */
export default {
  ...createDefaultEsmPreset({ tsconfig: 'tsconfig.test.json' }),
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 20000,
  // A real PostgreSQL for the run (the PostgreSQL adapter, pg-boss and the multi-instance tests).
  globalSetup: '<rootDir>/test/setup/postgres-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/postgres-global-teardown.ts',
};
