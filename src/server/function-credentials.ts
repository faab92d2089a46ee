/**
 * Credentials handed to each function (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN), derived from a secret that lives only in this server process: code inside an
 * environment can sign requests to the Lamina API with them, and nothing outside can forge them.
 * They die with the server (environments do too).
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface FunctionCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly functionName: string;
  /** The version its environments run (`$LATEST` or a number): whose role the key acts as. */
  readonly version: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class FunctionCredentials {
  readonly #key = randomBytes(32);
  readonly #byKeyId = new Map<string, FunctionCredential>();

  /** The credential of a function's version (the same for the life of this server). */
  credentialsFor(functionName: string, version: string): FunctionCredential {
    const mac = (label: string) =>
      createHmac('sha256', this.#key)
        .update(`${label}\u0000${functionName}\u0000${version}`)
        .digest();
    const id = [...mac('id').subarray(0, 16)].map((b) => ALPHABET[b % 32]).join('');
    const credential: FunctionCredential = {
      accessKeyId: `ASIA${id}`,
      secretAccessKey: mac('secret').toString('base64').slice(0, 40),
      sessionToken: mac('token').toString('base64'),
      functionName,
      version,
    };
    this.#byKeyId.set(credential.accessKeyId, credential);
    return credential;
  }

  /** The credential of an access key id handed out by this server, if any. */
  lookup(accessKeyId: string): FunctionCredential | undefined {
    return this.#byKeyId.get(accessKeyId);
  }
}
