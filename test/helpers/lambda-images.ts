/**
 * Container images of Lambda functions for tests, built from what this machine has: the installed
 * official Node.js binary (nodejs22.x) with the host libraries `ldd` lists for it, copied into a
 * root folder at the same paths (the loader at /lib64/ld-linux-x86-64.so.2). That folder becomes
 * a base image once per test process (umoci init, new, unpack --rootless, repack into a cached OCI
 * layout); an image of a test is the base plus its own layers (`umoci raw add-layer`) and config
 * (`umoci config`), pushed with skopeo. `BOOTSTRAP` is a tiny custom runtime speaking the Runtime
 * API over http that reports what it sees (argv, cwd, variables, writes, listings).
 * `LAMBDA_ENTRYPOINT_SH`, `runtimeBootstrapSh` and `shellFiles` lay an image out like AWS's
 * Lambda base images (a shell script as ENTRYPOINT, the handler as CMD).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultRuntimesDir } from '../../src/runtimes/runtime-store.js';
import type { ImageConfigInput, PushCredentials } from './oci-images.js';
import { tarLayer, type TarEntry } from './tar-layers.js';

const run = promisify(execFile);

/** Where the images put Node.js, and the custom bootstrap. */
export const NODE_PATH = '/usr/bin/node';
export const BOOTSTRAP_PATH = '/var/task/bootstrap.mjs';

/**
 * A custom runtime: for each event, answers what the process sees. The event may ask for
 * `lstat` (paths → kind or error code), `list` (folders → sorted names or error code) and `read`
 * (files → content or error code); `fail` makes it post an error instead.
 */
export const BOOTSTRAP = `
import fs from 'node:fs';
import http from 'node:http';

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const request = (method, path, body) =>
  new Promise((resolve, reject) => {
    const req = http.request('http://' + api + '/2018-06-01/runtime' + path, { method }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
const attempt = (action) => {
  try {
    return action();
  } catch (error) {
    return error.code ?? String(error);
  }
};
const kind = (stats) =>
  stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink'
  : stats.isFIFO() ? 'fifo' : stats.isCharacterDevice() ? 'character-device'
  : stats.isBlockDevice() ? 'block-device' : 'other';
const each = (paths, action) => Object.fromEntries((paths ?? []).map((p) => [p, attempt(() => action(p))]));

for (;;) {
  const next = await request('GET', '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  const event = JSON.parse(next.body === '' ? 'null' : next.body) ?? {};
  const result = {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: { ...process.env },
    writeRoot: attempt(() => (fs.writeFileSync('/x', 'x'), 'written')),
    writeTmp: attempt(() => (fs.writeFileSync('/tmp/x', 'x'), fs.readFileSync('/tmp/x', 'utf8'))),
    lstat: each(event.lstat, (p) => kind(fs.lstatSync(p))),
    list: each(event.list, (p) => fs.readdirSync(p).sort()),
    read: each(event.read, (p) => fs.readFileSync(p, 'utf8')),
  };
  await request('POST', '/invocation/' + id + '/response', JSON.stringify(result));
}
`;

/**
 * The layout of AWS's Lambda base images (`public.ecr.aws/lambda/nodejs:22`): the ENTRYPOINT
 * script, the runtime's bootstrap beside the runtime interface client in `/var/runtime`, the
 * handler in `/var/task`, and the config that names them.
 */
export const AWS_BASE = {
  entrypoint: '/lambda-entrypoint.sh',
  runtimeDir: '/var/runtime',
  bootstrap: '/var/runtime/bootstrap',
  taskRoot: '/var/task',
  rie: '/usr/local/bin/aws-lambda-rie',
} as const;

/**
 * `/lambda-entrypoint.sh` as AWS documents it (written here, not copied): exactly one argument,
 * the handler, else exit 142; `_HANDLER` exported; the runtime interface emulator when no Runtime
 * API is given (a local `docker run`), else the runtime's bootstrap.
 */
export const LAMBDA_ENTRYPOINT_SH = `#!/bin/sh
if [ "$#" -ne 1 ]; then
  echo "lambda-entrypoint.sh: expected the handler as the only argument, got $#" >&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "\${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec ${AWS_BASE.rie} ${AWS_BASE.bootstrap}
else
  exec ${AWS_BASE.bootstrap}
fi
`;

/** `/var/runtime/bootstrap`: Node.js on the runtime interface client at `ricMain`, given `$_HANDLER`. */
export function runtimeBootstrapSh(ricMain: string): string {
  return `#!/bin/sh\nexec ${NODE_PATH} ${ricMain} "$_HANDLER"\n`;
}

/** What `BOOTSTRAP` answers. */
export interface BootstrapReport {
  readonly argv: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly writeRoot: string;
  readonly writeTmp: string;
  readonly lstat: Record<string, string>;
  readonly list: Record<string, string[] | string>;
  readonly read: Record<string, string>;
}

/** The official Node.js binary the platform installed (the newest nodejs22.x version). */
export function officialNode(): string {
  const dir = join(defaultRuntimesDir(), 'nodejs22.x');
  const versions = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^\d+\.\d+\.\d+$/.test(name))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    : [];
  const newest = versions.at(-1);
  if (newest === undefined)
    throw new Error(`no nodejs22.x runtime in ${dir}: run \`sh scripts/setup.sh --for-tests\``);
  return join(dir, newest, 'bin', 'node');
}

/** Files of a layer: path in the image → content (and mode, 0644 by default; 0755 for `exec`). */
export type LayerFiles = Record<
  string,
  string | Buffer | { content: string | Buffer; mode: number }
>;

/** A layer tar of `files`, with an entry for every folder above them (mode 0755). */
export async function filesLayer(
  files: LayerFiles,
  folders: readonly string[] = [],
): Promise<Buffer> {
  const dirs = new Set<string>();
  const addParents = (path: string) => {
    for (let dir = dirname(path); dir !== '/' && dir !== '.'; dir = dirname(dir)) dirs.add(dir);
  };
  for (const folder of folders) {
    dirs.add(folder);
    addParents(folder);
  }
  for (const path of Object.keys(files)) addParents(path);
  const entries: TarEntry[] = [...dirs]
    .sort()
    .map((dir) => ({ name: `${dir.replace(/^\//, '')}/`, type: 'directory' as const }));
  for (const [path, value] of Object.entries(files)) {
    const spec =
      typeof value === 'string' || Buffer.isBuffer(value) ? { content: value, mode: 0o644 } : value;
    entries.push({ name: path.replace(/^\//, ''), content: spec.content, mode: spec.mode });
  }
  return tarLayer(entries);
}

export interface ImageSpec {
  /** Files added in a layer of their own above the base. */
  readonly files?: LayerFiles;
  /** Empty folders to create in that layer. */
  readonly folders?: readonly string[];
  /** Further uncompressed layer tars, above those files. */
  readonly layers?: readonly Buffer[];
  readonly config?: ImageConfigInput;
  readonly credentials?: PushCredentials;
}

/** The base image's OCI layout, built once per process; `push` adds layers and config to it. */
export class LambdaImages {
  readonly #work: string;
  readonly #layout: string;
  readonly rootfs: string;
  #tags = 0;
  #nodeLayer: Promise<Buffer> | undefined;

  private constructor(work: string) {
    this.#work = work;
    this.#layout = join(work, 'layout');
    this.rootfs = join(work, 'rootfs');
  }

  /** Builds the root folder and the base image (a few seconds: umoci compresses the 120 MB binary). */
  static async create(): Promise<LambdaImages> {
    const images = new LambdaImages(await mkdtemp(join(tmpdir(), 'lamina-lambda-images-')));
    try {
      await images.#buildRootfs();
      await images.#buildBase();
      return images;
    } catch (error) {
      await images.dispose();
      throw error;
    }
  }

  /** The base image as one uncompressed layer tar (for `pushLayers`), made once. */
  nodeLayer(): Promise<Buffer> {
    this.#nodeLayer ??= this.#tarOfRootfs();
    return this.#nodeLayer;
  }

  /**
   * Pushes base + `spec` as `registryHost/repoTag`; answers the manifest digest. Images pushed to
   * one registry share the base layer, which skopeo uploads once per repository.
   */
  async push(registryHost: string, repoTag: string, spec: ImageSpec = {}): Promise<string> {
    let tag = 'base';
    const next = () => `t${++this.#tags}`;
    const layers = [
      ...(spec.files === undefined && spec.folders === undefined
        ? []
        : [await filesLayer(spec.files ?? {}, spec.folders)]),
      ...(spec.layers ?? []),
    ];
    for (const layer of layers) {
      const file = join(this.#work, `layer-${this.#tags + 1}.tar`);
      await writeFile(file, layer);
      const newTag = next();
      try {
        await run('umoci', [
          'raw',
          'add-layer',
          '--image',
          `${this.#layout}:${tag}`,
          '--tag',
          newTag,
          file,
        ]);
      } finally {
        await rm(file, { force: true });
      }
      tag = newTag;
    }
    const config = spec.config ?? {};
    const args = ['config', '--image', `${this.#layout}:${tag}`];
    for (const item of config.Entrypoint ?? []) args.push('--config.entrypoint', item);
    for (const item of config.Cmd ?? []) args.push('--config.cmd', item);
    for (const item of config.Env ?? []) args.push('--config.env', item);
    if (config.WorkingDir !== undefined) args.push('--config.workingdir', config.WorkingDir);
    tag = next();
    args.push('--tag', tag);
    await run('umoci', args);
    const digestFile = join(this.#work, `${tag}.digest`);
    const copy = [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--preserve-digests',
      '--digestfile',
      digestFile,
    ];
    if (spec.credentials !== undefined)
      copy.push('--dest-creds', `${spec.credentials.username}:${spec.credentials.password}`);
    copy.push(`oci:${this.#layout}:${tag}`, `docker://${registryHost}/${repoTag}`);
    try {
      await run('skopeo', copy, { maxBuffer: 16 * 1024 * 1024 });
      return (await readFile(digestFile, 'utf8')).trim();
    } finally {
      await rm(digestFile, { force: true });
    }
  }

  /**
   * A POSIX shell for the image: the host's dash as `/bin/sh` (mode 0755), with every library
   * `ldd` lists for it that the base image lacks.
   */
  async shellFiles(): Promise<LayerFiles> {
    const dash = '/usr/bin/dash';
    if (!existsSync(dash)) throw new Error(`${dash} is missing: install the dash package`);
    const files: LayerFiles = { '/bin/sh': { content: await readFile(dash), mode: 0o755 } };
    for (const library of await librariesOf(dash))
      if (!existsSync(join(this.rootfs, library)))
        files[library] = { content: await readFile(library), mode: 0o755 };
    return files;
  }

  async dispose(): Promise<void> {
    await rm(this.#work, { recursive: true, force: true });
  }

  async #buildRootfs(): Promise<void> {
    const node = officialNode();
    await mkdir(join(this.rootfs, 'usr', 'bin'), { recursive: true });
    await cp(node, join(this.rootfs, NODE_PATH));
    await chmod(join(this.rootfs, NODE_PATH), 0o755);
    for (const library of await librariesOf(node)) {
      const target = join(this.rootfs, library);
      await mkdir(dirname(target), { recursive: true });
      await cp(library, target, { dereference: true });
    }
    for (const folder of ['tmp', 'var/task', 'etc'])
      await mkdir(join(this.rootfs, folder), { recursive: true });
    await chmod(join(this.rootfs, 'tmp'), 0o1777);
  }

  async #buildBase(): Promise<void> {
    const bundle = join(this.#work, 'bundle');
    const image = `${this.#layout}:base`;
    await run('umoci', ['init', '--layout', this.#layout]);
    await run('umoci', ['new', '--image', image]);
    await run('umoci', ['unpack', '--rootless', '--image', image, bundle]);
    await cp(this.rootfs, join(bundle, 'rootfs'), { recursive: true });
    await run('umoci', ['repack', '--image', image, bundle]);
    await rm(bundle, { recursive: true, force: true });
  }

  async #tarOfRootfs(): Promise<Buffer> {
    const entries: TarEntry[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const name of (await readdir(dir)).sort()) {
        const path = join(dir, name);
        const stats = await lstat(path);
        if (stats.isDirectory()) {
          entries.push({ name: `${prefix}${name}/`, type: 'directory', mode: stats.mode & 0o7777 });
          await walk(path, `${prefix}${name}/`);
        } else if (stats.isFile()) {
          entries.push({
            name: `${prefix}${name}`,
            content: await readFile(path),
            mode: stats.mode & 0o777,
          });
        }
      }
    };
    await walk(this.rootfs, '');
    return tarLayer(entries);
  }
}

/** The libraries (and loader) `ldd` lists for `program`, as absolute paths. */
async function librariesOf(program: string): Promise<string[]> {
  const { stdout } = await run('ldd', [program]);
  const libraries = [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map(
    (match) => match[1] ?? '',
  );
  if (!libraries.some((path) => path.includes('ld-linux')))
    throw new Error(`ldd named no loader for ${program}:\n${stdout}`);
  return libraries;
}
