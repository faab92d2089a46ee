/**
 * Builds identity: the IAM repository (secrets sealed with a key kept beside, not in, the
 * database), the services, the authorizer and the directory of accepted keys, with the root key
 * pair and every user's active key in it.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { IdentityEdge } from '../api/identity-routes.js';
import type { Clock } from '../core/clock.js';
import { Authorizer } from '../iam/authorizer.js';
import { CredentialDirectory } from '../iam/credential-directory.js';
import { IamService } from '../iam/iam-service.js';
import { StsService } from '../iam/sts-service.js';
import type { Database } from '../store/database-schema.js';
import { SecretBox } from '../store/secret-box.js';
import { SqliteIamRepository } from '../store/sqlite-iam-repository.js';

export async function buildIdentity(options: {
  readonly db: Kysely<Database>;
  readonly dataDir: string;
  readonly accountId: string;
  readonly clock: Clock;
  /** The account's root key pair (none: authentication is off). */
  readonly root: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** `LAMINA_SECRETS_KEY`, when the key is not to be kept in a file. */
  readonly secretsKey?: string | undefined;
}): Promise<Omit<IdentityEdge, 'resourcePolicies'> & { readonly secrets: SecretBox }> {
  const { clock, accountId } = options;
  const secrets = SecretBox.open(join(options.dataDir, 'iam-secrets.key'), options.secretsKey);
  const repository = new SqliteIamRepository(options.db, secrets);
  const directory = new CredentialDirectory(accountId, clock);
  if (options.root !== undefined)
    directory.addRoot(options.root.accessKeyId, options.root.secretAccessKey);
  // The authorizer reads policies through the service, which tells it when they change.
  const changed = { listener: () => undefined as void };
  const iam = new IamService({
    repository,
    accountId,
    clock,
    directory,
    onChange: () => changed.listener(),
  });
  const authorizer = new Authorizer({ source: iam, clock });
  changed.listener = () => authorizer.invalidate();
  await iam.loadKeys();
  const sts = new StsService({ iam, directory, authorizer, clock });
  return { api: { iam, sts, authorizer }, directory, secrets };
}
