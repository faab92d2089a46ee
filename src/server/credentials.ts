/**
 * The key pair the API accepts: from LAMINA_ACCESS_KEY_ID / LAMINA_SECRET_ACCESS_KEY, else from
 * `<data-dir>/credentials.json`, else generated there (mode 0600) on first start.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where they came from, for the start-up banner. */
  readonly source: 'environment' | 'file' | 'generated';
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function resolveCredentials(dataDir: string, env: NodeJS.ProcessEnv): Credentials {
  const found = readCredentials(dataDir, env);
  if (found !== undefined) return found;
  const file = join(dataDir, 'credentials.json');
  const generated = {
    accessKeyId: `LKIA${[...randomBytes(16)].map((b) => ALPHABET[b % 32]).join('')}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { ...generated, source: 'generated' };
}

/**
 * The configured key pair without generating one: the environment, else `credentials.json` in
 * the data directory, else undefined. The `lamina` client commands sign with it.
 */
export function readCredentials(dataDir: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  const id = env['LAMINA_ACCESS_KEY_ID'];
  const secret = env['LAMINA_SECRET_ACCESS_KEY'];
  if (id !== undefined && id !== '' && secret !== undefined && secret !== '') {
    return { accessKeyId: id, secretAccessKey: secret, source: 'environment' };
  }
  if ((id ?? '') !== '' || (secret ?? '') !== '') {
    throw new Error('Set both LAMINA_ACCESS_KEY_ID and LAMINA_SECRET_ACCESS_KEY, or neither.');
  }
  const file = join(dataDir, 'credentials.json');
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    if (typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') {
      return {
        accessKeyId: stored.accessKeyId,
        secretAccessKey: stored.secretAccessKey,
        source: 'file',
      };
    }
    throw new Error(`${file} does not hold accessKeyId and secretAccessKey`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return undefined;
}
