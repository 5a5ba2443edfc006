import { z } from 'zod';

export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One check's result. The JSON output's schema is generated from these (docs/contract-report.schema.json). */
export const checkResultSchema = z
  .object({
    id: z.string().describe('Stable identifier, e.g. "sign.sha256".'),
    category: z
      .string()
      .describe('Group: base-url, signing, queries, security, bearer, acl, entities, writes, activation.'),
    name: z.string().describe('What was checked, in words.'),
    status: z.enum(CHECK_STATUSES),
    durationMs: z.number().nonnegative(),
    detail: z.string().describe('What happened.'),
    storeSaid: z
      .string()
      .optional()
      .describe("The store's own words (oauth_problem or REST message), when it refused."),
    cause: z.string().optional().describe('The likely cause of a failure or warning.'),
    fix: z.string().optional().describe('What to do about it.'),
  })
  .strict();

export const reportSchema = z
  .object({
    schemaVersion: z.literal(1),
    store: z.string().describe('The store base URL the checks ran against.'),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    durationMs: z.number().nonnegative(),
    summary: z
      .object({
        pass: z.number().int(),
        fail: z.number().int(),
        warn: z.number().int(),
        skip: z.number().int(),
      })
      .strict(),
    checks: z.array(checkResultSchema),
  })
  .strict();

export type CheckResult = z.infer<typeof checkResultSchema>;

/** How the detail of a check that was not run begins (the store could not be reached). */
export const NOT_RUN = 'Not run:';
export const isNotRun = (r: CheckResult): boolean => r.status === 'skip' && r.detail.startsWith(NOT_RUN);
export type Report = z.infer<typeof reportSchema>;

/** The JSON Schema of `npm run contract -- --json`, as published in docs/. */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(reportSchema);
}
