/**
 * The managed runtime ids the runtime store knows and the rules about them: which Node.js major a
 * `nodejsNN.x` id runs, why `pythonX.Y` cannot be installed, and how release versions order.
 */

/** The Node.js runtime ids Lamina installs, oldest first. */
export const NODE_RUNTIMES: readonly string[] = [
  'nodejs18.x',
  'nodejs20.x',
  'nodejs22.x',
  'nodejs24.x',
];

/** The Python runtime ids AWS offers today (Lamina runs them on the host's interpreters). */
export const PYTHON_RUNTIMES: readonly string[] = [
  'python3.9',
  'python3.10',
  'python3.11',
  'python3.12',
  'python3.13',
];

/** The OS-only runtime ids: the function brings its own `bootstrap`. */
export const PROVIDED_RUNTIMES: readonly string[] = ['provided.al2023', 'provided.al2'];

/** The Node.js major of a runtime id Lamina installs; an Error naming the choices otherwise. */
export function nodeMajorOf(runtime: string): number {
  if (NODE_RUNTIMES.includes(runtime)) return Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1]);
  if (/^python3\.\d+$/.test(runtime)) throw new Error(pythonNotInstallable(runtime));
  if (PROVIDED_RUNTIMES.includes(runtime))
    throw new Error(`${runtime} needs nothing installed: the function brings its own bootstrap`);
  throw new Error(
    `unknown runtime ${JSON.stringify(runtime)}: Lamina installs ${NODE_RUNTIMES.join(', ')}`,
  );
}

/** Why `pythonX.Y` is not installed by Lamina, and what is used instead. */
export function pythonNotInstallable(runtime: string): string {
  const version = runtime.replace(/^python/, '');
  return (
    `${runtime} cannot be installed by Lamina: no trustworthy Python binary source is reachable ` +
    `(PyPI is closed here, and npm's python packages download from GitHub at install time). ` +
    `Lamina runs ${runtime} functions on the host's /usr/bin/python${version} when present ` +
    `(Debian 12 ships python3.11 only; apt-get install python${version} where the distribution has it).`
  );
}

/** Whether `version` is a plain release `MAJOR.MINOR.PATCH`. */
export function isReleaseVersion(version: string): boolean {
  return /^\d+\.\d+\.\d+$/.test(version);
}

/** Orders release versions newest first (prereleases and malformed ones last). */
export function newestFirst(a: string, b: string): number {
  const parts = (v: string) => (isReleaseVersion(v) ? v.split('.').map(Number) : [-1, -1, -1]);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i += 1) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
