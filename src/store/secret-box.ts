/**
 * Seals secrets kept in the metadata database (IAM users' secret access keys) with AES-256-GCM
 * under a key kept apart from it: a file of its own (`iam-secrets.key`, 0600) next to the
 * database, or `LAMINA_SECRETS_KEY`. A copy of the database alone (a backup, a file sent for a bug
 * report) then holds no usable secret; whoever can read the key file as well can open them all.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`a secrets key has ${KEY_BYTES} bytes`);
    this.#key = key;
  }

  /**
   * The key from `base64Key` when given, else from `file`, made (0600, random) when missing.
   */
  static open(file: string, base64Key?: string): SecretBox {
    if (base64Key !== undefined) return new SecretBox(Buffer.from(base64Key, 'base64'));
    if (!existsSync(file)) {
      writeFileSync(file, randomBytes(KEY_BYTES).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  /** `v1.<iv>.<ciphertext+tag>` in base64url. */
  seal(secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const sealed = Buffer.concat([
      cipher.update(secret, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${FORMAT}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** The secret; throws when it was sealed with another key or changed. */
  open(sealed: string): string {
    const [format, ivText, bodyText] = sealed.split('.');
    if (format !== FORMAT || ivText === undefined || bodyText === undefined)
      throw new Error('not a sealed secret');
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivText, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}
