/**
 * The temporary credentials each execution environment receives (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN): a session of its function's execution role, named
 * after the function, new for every environment. They expire after `lifetimeMs`, which outlasts
 * the environment (environments are retired at their maximum age, before it), and they stop
 * working as soon as the environment ends. Code inside an environment signs Lamina API requests
 * with them; nothing outside can forge them.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { iamId, newSecretAccessKey } from '../core/iam-model.js';
import type { Caller, CredentialDirectory } from '../iam/credential-directory.js';

/** Who a function's credentials act as: a session of its role (see ExecutionRoles). */
export interface FunctionCallers {
  callerOf(functionName: string, roleArn: string): Promise<Caller>;
}

export interface EnvironmentCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresMs: number;
}

export class FunctionCredentials {
  readonly #directory: CredentialDirectory;
  readonly #roles: FunctionCallers;
  readonly #clock: Clock;
  readonly #lifetimeMs: number;
  /** Each live environment's key id. */
  readonly #byEnvironment = new Map<string, string>();

  constructor(options: {
    directory: CredentialDirectory;
    roles: FunctionCallers;
    clock: Clock;
    lifetimeMs: number;
  }) {
    this.#directory = options.directory;
    this.#roles = options.roles;
    this.#clock = options.clock;
    this.#lifetimeMs = options.lifetimeMs;
  }

  /** New credentials for environment `environmentId` of a function whose role is `roleArn`. */
  async issue(
    environmentId: string,
    functionName: string,
    roleArn: string,
  ): Promise<EnvironmentCredential> {
    const caller = await this.#roles.callerOf(functionName, roleArn);
    const credential = {
      accessKeyId: iamId('ASIA', 20),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: randomBytes(96).toString('base64'),
      expiresMs: this.#clock.now() + this.#lifetimeMs,
    };
    this.revoke(environmentId);
    this.#directory.addTemporary(
      credential.accessKeyId,
      credential.secretAccessKey,
      credential.sessionToken,
      credential.expiresMs,
      caller,
    );
    this.#byEnvironment.set(environmentId, credential.accessKeyId);
    return credential;
  }

  /** The environment ended: its key is refused from now on. */
  revoke(environmentId: string): void {
    const accessKeyId = this.#byEnvironment.get(environmentId);
    if (accessKeyId === undefined) return;
    this.#byEnvironment.delete(environmentId);
    this.#directory.remove(accessKeyId);
  }
}
