// Dependency direction of src/ (see docs/ARCHITECTURE.md): everything points inward to core;
// application modules (functions, invoke, environment, async, iam, event-sources, schedules, monitoring) know only core (and invoke knows
// environment, never the other way); adapters (api, store, sandbox,
// runtime-api, triggers, observability) know core and the application ports; only server (the
// composition root) and cli see everything.
const adapters = 'api|store|sandbox|runtime-api|runtimes|triggers|observability|images';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to reason about one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-innermost',
      severity: 'error',
      comment: 'core holds domain types and pure logic; it imports no other part of src.',
      from: { path: '^src/core/' },
      to: { path: '^src/(?!core/)' },
    },
    {
      name: 'application-knows-only-core',
      severity: 'error',
      comment:
        'functions, invoke, environment, async, iam, event-sources, schedules and monitoring declare ports; they never import adapters or the server.',
      from: {
        path: '^src/(functions|invoke|environment|async|iam|event-sources|schedules|monitoring)/',
      },
      to: { path: `^src/(${adapters}|server|cli)/` },
    },
    {
      name: 'adapters-do-not-know-each-other',
      severity: 'error',
      comment: 'An adapter reaches another only through a port wired by the server.',
      from: { path: `^src/(${adapters})/` },
      to: { path: `^src/(${adapters}|server|cli)/`, pathNot: '^src/$1/' },
    },
    {
      name: 'environment-does-not-know-invoke',
      severity: 'error',
      comment:
        'An execution environment is driven by the invocation engine and never reaches back into it (the pool hands it a Reservation).',
      from: { path: '^src/environment/' },
      to: { path: '^src/invoke/' },
    },
    {
      name: 'runtime-api-does-not-import-invoke',
      severity: 'error',
      comment: 'The Runtime API declares the port it needs instead.',
      from: { path: '^src/runtime-api/' },
      to: { path: '^src/(invoke|environment)/' },
    },
    {
      name: 'only-cli-imports-server',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(server|cli)/' },
      to: { path: '^src/server/' },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nobody imports is dead code.',
      from: { orphan: true, path: '^src/', pathNot: '^src/cli/main\\.ts$|\\.d\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
