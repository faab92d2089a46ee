/**
 * A small HTTP front for a test registry: forwards every request to it, records what was asked,
 * and can demand Bearer tokens (the distribution token flow: 401 with a `WWW-Authenticate: Bearer`
 * challenge, a `/token` endpoint that checks Basic credentials) the way Docker Hub or GHCR do.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RegistryFront {
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** `METHOD path` of every request that reached the registry, in order. */
  readonly forwarded: string[];
  /** Requests to `/token`, with whether their credentials were accepted. */
  readonly tokenRequests: { readonly scope: string | null; readonly accepted: boolean }[];
  stop(): Promise<void>;
}

export interface FrontOptions {
  /** Require a token from `/token`, which is given for these Basic credentials only. */
  readonly bearer?: { readonly username: string; readonly password: string };
}

export async function startRegistryFront(
  upstream: string,
  options: FrontOptions = {},
): Promise<RegistryFront> {
  const token = randomBytes(16).toString('hex');
  const forwarded: string[] = [];
  const tokenRequests: { scope: string | null; accepted: boolean }[] = [];
  let host = '';
  const server: Server = createServer((incoming, answer) => {
    const url = new URL(incoming.url ?? '/', `http://${host}`);
    const bearer = options.bearer;
    if (bearer !== undefined && url.pathname === '/token') {
      const expected = `Basic ${Buffer.from(`${bearer.username}:${bearer.password}`).toString('base64')}`;
      const accepted = incoming.headers.authorization === expected;
      tokenRequests.push({ scope: url.searchParams.get('scope'), accepted });
      answer.writeHead(accepted ? 200 : 401, { 'content-type': 'application/json' });
      answer.end(accepted ? JSON.stringify({ token }) : '{"details":"bad credentials"}');
      return;
    }
    if (bearer !== undefined && incoming.headers.authorization !== `Bearer ${token}`) {
      const repository = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1] ?? '';
      answer.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${host}/token",service="lamina-test",scope="repository:${repository}:pull"`,
      });
      answer.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    forwarded.push(`${incoming.method ?? 'GET'} ${url.pathname}`);
    const headers = { ...incoming.headers, host: upstream };
    delete headers.authorization;
    const outgoing = request(
      `http://${upstream}${incoming.url ?? '/'}`,
      { method: incoming.method ?? 'GET', headers },
      (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      },
    );
    outgoing.on('error', () => answer.destroy());
    incoming.pipe(outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    forwarded,
    tokenRequests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
