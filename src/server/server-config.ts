/** Settings of a Lamina server, as the CLI fills them (defaults in `DEFAULT_CONFIG`). */
export interface ServerConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  /** `sigv4` verifies every request; `none` accepts anything (local throwaway use only). */
  readonly auth: 'sigv4' | 'none';
  /** Account-wide concurrent executions (GetAccountSettings). */
  readonly concurrencyLimit: number;
  /** How long a GetFunction `Code.Location` URL stays valid, in seconds. */
  readonly codeUrlExpirySeconds: number;
  readonly logLevel: string;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 9000,
  dataDir: '.lamina',
  region: 'us-east-1',
  accountId: '000000000000',
  auth: 'sigv4',
  concurrencyLimit: 1000,
  codeUrlExpirySeconds: 600,
  logLevel: 'info',
};
