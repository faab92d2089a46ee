/** Image references (`ImageUri`), resolved URIs, and the registry answers read around them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatResolved,
  hostName,
  parseImageReference,
  type ImageReference,
} from '../../src/core/image-reference.js';
import { choosePlatform, parseManifest } from '../../src/images/manifest.js';
import { parseChallenges } from '../../src/images/registry-auth.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseImageReference', () => {
  const accepted: [string, ImageReference][] = [
    [
      '127.0.0.1:5000/app:v1',
      { host: '127.0.0.1:5000', repository: 'app', tag: 'v1', digest: undefined },
    ],
    ['localhost/app', { host: 'localhost', repository: 'app', tag: 'latest', digest: undefined }],
    [
      'registry.example.com/team/sub/app-name_x:1.2.3-rc',
      {
        host: 'registry.example.com',
        repository: 'team/sub/app-name_x',
        tag: '1.2.3-rc',
        digest: undefined,
      },
    ],
    [
      `localhost:5000/app@${DIGEST}`,
      { host: 'localhost:5000', repository: 'app', tag: undefined, digest: DIGEST },
    ],
    [`r.io/a/b:v2@${DIGEST}`, { host: 'r.io', repository: 'a/b', tag: 'v2', digest: DIGEST }],
    ['[::1]:5000/app:v1', { host: '[::1]:5000', repository: 'app', tag: 'v1', digest: undefined }],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/my.repo__x:latest',
      {
        host: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        repository: 'my.repo__x',
        tag: 'latest',
        digest: undefined,
      },
    ],
  ];
  for (const [uri, expected] of accepted)
    test(`accepts ${uri}`, () => assert.deepEqual(parseImageReference(uri), expected));

  const refused: [string, RegExp][] = [
    ['app:v1', /names no registry host/],
    ['library/app:v1', /names no registry host/],
    ['', /empty/],
    ['r.io/App:v1', /invalid repository "App"/],
    ['r.io/a//b:v1', /empty component/],
    ['r.io/a-:v1', /invalid repository/],
    ['r.io/a:.v1', /invalid tag/],
    [`r.io/a:${'t'.repeat(129)}`, /invalid tag/],
    ['r.io/a@sha256:abc', /invalid digest/],
    [`r.io/a@sha512:${'a'.repeat(128)}`, /invalid digest/],
    ['r.io:99999/a:v1', /invalid registry host/],
    ['bad_host.io/a:v1', /invalid registry host/],
    ['r.io/:v1', /names no repository/],
    [`r.io/${'a'.repeat(300)}:v1`, /too long/],
  ];
  for (const [uri, message] of refused)
    test(`refuses ${JSON.stringify(uri.slice(0, 40))}`, () => {
      const answer = parseImageReference(uri);
      assert.equal(typeof answer, 'string');
      assert.match(answer as string, message);
    });

  test('formatResolved pins host/repository to the digest', () => {
    const ref = parseImageReference('127.0.0.1:5000/team/app:v1') as ImageReference;
    assert.equal(formatResolved(ref, DIGEST), `127.0.0.1:5000/team/app@${DIGEST}`);
  });

  test('hostName drops the port and brackets', () => {
    assert.equal(hostName('127.0.0.1:5000'), '127.0.0.1');
    assert.equal(hostName('[::1]:5000'), '::1');
    assert.equal(hostName('registry.example.com'), 'registry.example.com');
  });
});

describe('WWW-Authenticate challenges', () => {
  test('reads Bearer parameters with quoted commas', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example.com/token',
            service: 'registry.example.com',
            scope: 'repository:a/b:pull,push',
          },
        },
      ],
    );
  });
  test('reads several challenges', () => {
    assert.deepEqual(
      parseChallenges(['Basic realm="r"', 'Bearer realm="https://t"']).map((c) => c.scheme),
      ['basic', 'bearer'],
    );
  });
});

describe('manifests', () => {
  const layer = (mediaType: string) => ({ mediaType, digest: DIGEST, size: 10 });
  const manifest = (
    layers: unknown[],
    config: unknown = layer('application/vnd.oci.image.config.v1+json'),
  ) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers,
      }),
    );

  test('refuses more than 128 layers, foreign layers and bad digests', () => {
    const gzip = layer('application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal(typeof parseManifest(manifest(Array(128).fill(gzip)), undefined), 'object');
    assert.match(parseManifest(manifest(Array(129).fill(gzip)), undefined) as string, /129 layers/);
    assert.match(
      parseManifest(
        manifest([layer('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')]),
        undefined,
      ) as string,
      /foreign/,
    );
    assert.match(
      parseManifest(manifest([{ ...gzip, digest: 'sha256:../../etc' }]), undefined) as string,
      /only sha256/,
    );
    assert.match(
      parseManifest(manifest([{ ...gzip, size: 11 * 1024 ** 3 }]), undefined) as string,
      /10 GiB/,
    );
  });

  test('refuses a config that is not a container image', () => {
    const answer = parseManifest(
      manifest([], layer('application/vnd.cncf.helm.config.v1+json')),
      undefined,
    );
    assert.match(answer as string, /not a container image/);
  });

  test('chooses linux/arm64 v8 and names what an index offers', () => {
    const entry = (architecture: string, variant?: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: DIGEST,
      size: 1,
      platform:
        variant === undefined
          ? { os: 'linux', architecture }
          : { os: 'linux', architecture, variant },
    });
    assert.deepEqual(
      choosePlatform([entry('amd64'), entry('arm64', 'v8')], 'arm64'),
      entry('arm64', 'v8'),
    );
    assert.match(
      choosePlatform([entry('arm', 'v7'), entry('s390x')], 'amd64') as string,
      /offers linux\/arm\/v7, linux\/s390x/,
    );
  });
});
