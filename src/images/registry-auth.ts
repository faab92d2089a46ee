/**
 * Registry authentication as the distribution spec's token flow and HTTP Basic define it: reading
 * `WWW-Authenticate` challenges and turning one into an `Authorization` header (a Bearer token
 * fetched from the challenge's realm, with Basic credentials when stored; or Basic directly).
 */
import type { RegistryCredential } from '../functions/image-store.js';

/** One challenge of a `WWW-Authenticate` header: its scheme (lower case) and parameters. */
export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `WWW-Authenticate` (one header or several), e.g. `Bearer realm="…",service="…"`. */
export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const texts = typeof header === 'string' ? [header] : header;
  return texts.flatMap(parseChallengeText);
}

function parseChallengeText(text: string): AuthChallenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  const token = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  let at = 0;
  while (at < text.length) {
    token.lastIndex = at;
    const name = token.exec(text);
    if (name === null) {
      at += 1;
      continue;
    }
    at = token.lastIndex;
    const word = name[1] ?? '';
    if (text[at] === '=' && challenges.length > 0) {
      at += 1;
      let value = '';
      if (text[at] === '"') {
        at += 1;
        while (at < text.length && text[at] !== '"') {
          if (text[at] === '\\') at += 1;
          value += text[at] ?? '';
          at += 1;
        }
        at += 1;
      } else {
        const end = text.indexOf(',', at);
        value = text.slice(at, end < 0 ? text.length : end).trim();
        at = end < 0 ? text.length : end;
      }
      const current = challenges[challenges.length - 1];
      if (current !== undefined) current.params[word.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
    }
    while (at < text.length && (text[at] === ',' || text[at] === ' ')) at += 1;
  }
  return challenges;
}

/** `Basic <base64 user:password>`. */
export function basicAuthorization(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

/** The URL a Bearer challenge sends Lamina to for a pull token of `repository`. */
export function tokenUrl(challenge: AuthChallenge, repository: string): URL | string {
  const realm = challenge.params.realm;
  if (realm === undefined || realm === '')
    return 'the registry asked for a Bearer token without naming a token service (realm)';
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return `the registry's token service ${JSON.stringify(realm)} is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `the registry's token service ${JSON.stringify(realm)} is not an http(s) URL`;
  if (challenge.params.service !== undefined)
    url.searchParams.set('service', challenge.params.service);
  url.searchParams.append('scope', `repository:${repository}:pull`);
  return url;
}

/** The token of a token service's JSON answer (`token`, or OAuth's `access_token`). */
export function tokenFromAnswer(bytes: Buffer): string | undefined {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof json !== 'object' || json === null) return undefined;
    const { token, access_token: accessToken } = json as Record<string, unknown>;
    if (typeof token === 'string' && token !== '') return token;
    if (typeof accessToken === 'string' && accessToken !== '') return accessToken;
  } catch {
    // not JSON: no token
  }
  return undefined;
}
