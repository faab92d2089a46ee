/**
 * At start: the execution roles that existing functions (and their published versions) name and
 * that do not exist are made, so that data directories from before roles were checked keep
 * working (see ExecutionRoles.provision and docs/guide/identity.md, "Upgrading").
 */
import type { FunctionRepository } from '../functions/function-repository.js';
import type { VersionRepository } from '../functions/version-repository.js';
import type { ExecutionRoles } from '../iam/execution-roles.js';

const PAGE = 500;

export async function provisionFunctionRoles(options: {
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly executionRoles: ExecutionRoles;
  /** `--legacy-function-access`: the roles made may also do what functions could before. */
  readonly fullAccess: boolean;
}): Promise<string[]> {
  const roles = new Set<string>();
  for (let after: string | undefined; ;) {
    const page = await options.functions.list(after, PAGE);
    for (const record of page) {
      roles.add(record.latest.settings.role);
      for (let afterVersion = 0; ;) {
        const versions = await options.versions.list(record.name, afterVersion, PAGE);
        for (const version of versions) roles.add(version.settings.role);
        if (versions.length < PAGE) break;
        afterVersion = Number(versions[versions.length - 1]?.version ?? afterVersion + PAGE);
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.name;
  }
  return options.executionRoles.provision(roles, options.fullAccess);
}
