/**
 * `lamina registries login HOST | list | logout HOST`: the credentials a server uses to pull image
 * functions' images from a registry host, through its registries API. The password comes from
 * standard input (`--password-stdin`, as `docker login` takes it) or `--password`.
 */
import type { EventsClientOptions } from './events-command.js';
import { LaminaApiClient } from './lamina-api-client.js';

const API = '/lamina/2026-11-01/registries';

interface LoginView {
  readonly Host: string;
  readonly Username: string;
  readonly Updated: string;
}

export async function loginRegistry(
  options: EventsClientOptions,
  host: string,
  username: string,
  password: string,
): Promise<void> {
  const { json } = await new LaminaApiClient(options).request(
    'PUT',
    `${API}/${encodeURIComponent(host)}`,
    {},
    { Username: username, Password: password },
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const login = json as LoginView;
  options.write(`Stored the login of ${login.Username} for ${login.Host}.\n`);
}

export async function listRegistries(options: EventsClientOptions): Promise<void> {
  const { json } = await new LaminaApiClient(options).request('GET', API);
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const { Registries } = json as { Registries: LoginView[] };
  if (Registries.length === 0) return options.write('No registry logins.\n');
  for (const login of Registries)
    options.write(`${login.Host}  ${login.Username}  ${login.Updated}\n`);
}

export async function logoutRegistry(options: EventsClientOptions, host: string): Promise<void> {
  await new LaminaApiClient(options).request('DELETE', `${API}/${encodeURIComponent(host)}`);
  if (options.output === 'json') return options.write('{}\n');
  options.write(`Removed the login for ${host}.\n`);
}

/** Standard input up to its end, without the final line break (at most 64 KiB). */
export async function readPassword(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > 65_536) throw new Error('the password on standard input is longer than 64 KiB');
    chunks.push(bytes);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
