/**
 * Credentials for container registries (`npx lamina registries login HOST`): one user name and
 * password per registry host, used when an image function's image is pulled from that host.
 * Passwords are stored sealed and never answered back. Anonymous pulls need none.
 */
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { RegistryCredential, RegistryCredentials } from './image-store.js';

/** A registry's stored login, as answers show it (no password). */
export interface RegistryLogin {
  readonly host: string;
  readonly username: string;
  readonly updatedMs: number;
}

export interface RegistryLoginRepository {
  /** Inserts or replaces the login of `login.host`. */
  put(login: RegistryLogin, password: string): Promise<void>;
  get(host: string): Promise<{ login: RegistryLogin; password: string } | undefined>;
  delete(host: string): Promise<boolean>;
  list(): Promise<RegistryLogin[]>;
}

/** `host`, `host:port` or `[v6]:port`: what an image URI names before its first `/`. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const USERNAME_MAX = 256;
const PASSWORD_MAX = 8192;

export class RegistryService implements RegistryCredentials {
  readonly #repository: RegistryLoginRepository;
  readonly #clock: Clock;

  constructor(repository: RegistryLoginRepository, clock: Clock) {
    this.#repository = repository;
    this.#clock = clock;
  }

  async login(
    host: string,
    username: string | undefined,
    password: string | undefined,
  ): Promise<RegistryLogin> {
    const name = checkHost(host);
    if (username === undefined || username.length === 0 || username.length > USERNAME_MAX)
      throw lambdaErrors.invalidParameter(`Username is required: 1 to ${USERNAME_MAX} characters.`);
    if (password === undefined || password.length === 0 || password.length > PASSWORD_MAX)
      throw lambdaErrors.invalidParameter(`Password is required: 1 to ${PASSWORD_MAX} characters.`);
    const login = { host: name, username, updatedMs: this.#clock.now() };
    await this.#repository.put(login, password);
    return login;
  }

  async logout(host: string): Promise<void> {
    if (!(await this.#repository.delete(checkHost(host)))) throw notFound(host);
  }

  async get(host: string): Promise<RegistryLogin> {
    const found = await this.#repository.get(checkHost(host));
    if (found === undefined) throw notFound(host);
    return found.login;
  }

  list(): Promise<RegistryLogin[]> {
    return this.#repository.list();
  }

  async lookup(host: string): Promise<RegistryCredential | undefined> {
    if (!HOST.test(host)) return undefined;
    const found = await this.#repository.get(host.toLowerCase());
    return found === undefined
      ? undefined
      : { username: found.login.username, password: found.password };
  }
}

function checkHost(host: string): string {
  if (host.length > 255 || !HOST.test(host))
    throw lambdaErrors.invalidParameter(
      `${JSON.stringify(host.slice(0, 300))} is not a registry host: give host, host:port or [ipv6]:port, as an image URI names it before its first "/".`,
    );
  return host.toLowerCase();
}

function notFound(host: string): LambdaError {
  return new LambdaError(
    'ResourceNotFoundException',
    `No login is stored for the registry ${host}.`,
  );
}
