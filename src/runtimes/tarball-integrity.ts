/**
 * Subresource-integrity checks of downloaded tarballs: the registry publishes `dist.integrity`
 * (`sha512-<base64>`, possibly several space-separated hashes) and Lamina recomputes the digest
 * itself rather than trusting the downloader.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The `sha512-…` integrity string of a file's contents. */
export async function sha512Integrity(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * Whether `file` matches `integrity`. Only sha512 entries count: a registry string without one is
 * treated as a mismatch, since weaker digests are not accepted for binaries that will run.
 */
export async function matchesIntegrity(file: string, integrity: string): Promise<boolean> {
  const expected = integrity
    .split(/\s+/)
    .map((entry) => entry.replace(/\?.*$/, ''))
    .filter((entry) => entry.startsWith('sha512-'));
  if (expected.length === 0) return false;
  const actual = await sha512Integrity(file);
  return expected.includes(actual);
}
