/**
 * The import direction of docs/DESIGN.md, checked by `npm run lint`:
 *   cli, bench -> app -> web -> activation, sync, contract, module -> magento -> oauth1
 * and every layer may use config, errors, http, acl and storage's interfaces. storage imports no
 * feature code; the simulator imports nothing of the connector (it checks signatures with its own code).
 */
const feature = '^src/(activation|sync|magento|oauth1|web|app|cli|bench|accounts|contract|module)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment:
        'A file cycle: two files that need each other belong together, or one of them holds a part both need.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'storage-imports-no-feature-code',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: feature },
    },
    {
      name: 'simulator-is-independent',
      severity: 'error',
      comment:
        'The simulator verifies what the connector signs: sharing code would let one bug pass every test.',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: '^src/(simulator|config|acl)/' },
    },
    {
      name: 'connector-does-not-import-simulator',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(simulator|cli|bench)/' },
      to: { path: '^src/simulator/' },
    },
    {
      name: 'only-the-edge-imports-web',
      severity: 'error',
      comment: 'Domain errors carry a code; the web edge maps codes to statuses (src/web/error-answers.ts).',
      from: { path: '^src/', pathNot: '^src/(web|app|cli|bench)/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'only-commands-import-the-composition-root',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(app|cli|bench)/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'nothing-imports-commands',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|bench)/' },
      to: { path: '^src/(cli|bench)/' },
    },
    {
      name: 'activation-and-sync-stay-apart',
      severity: 'error',
      comment: 'Side by side under web: what both need lives below them (storage, magento).',
      from: { path: '^src/activation/' },
      to: { path: '^src/sync/' },
    },
    {
      name: 'sync-and-activation-stay-apart',
      severity: 'error',
      from: { path: '^src/sync/' },
      to: { path: '^src/activation/' },
    },
    {
      name: 'magento-knows-no-feature',
      severity: 'error',
      comment: 'Talking to one store: no activation, sync or web knowledge.',
      from: { path: '^src/(magento|oauth1)/' },
      to: { path: '^src/(activation|sync|web|app|cli|bench|accounts|contract|module)/' },
    },
    {
      name: 'oauth1-is-a-leaf',
      severity: 'error',
      from: { path: '^src/oauth1/' },
      to: { path: '^src/magento/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
