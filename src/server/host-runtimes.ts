/**
 * Finds the managed runtimes this host can run: its Node.js major (the platform's own binary is
 * shown inside the jail) and every `/usr/bin/python3.N` (the interpreters visible inside the jail).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { hostPythonRuntimes } from '../runtimes/host-runtime-launcher.js';

const run = promisify(execFile);

/** Runtime identifiers with the host version behind each (used for RuntimeVersionArn). */
export interface HostRuntimes {
  readonly identifiers: readonly string[];
  readonly versions: Readonly<Record<string, string>>;
}

export async function detectHostRuntimes(): Promise<HostRuntimes> {
  const node = `nodejs${process.versions.node.split('.')[0] ?? '20'}.x`;
  const versions: Record<string, string> = {
    [node]: `node-${process.versions.node}`,
    'provided.al2023': 'provided-al2023',
    'provided.al2': 'provided-al2',
  };
  const pythons = hostPythonRuntimes();
  for (const runtime of pythons) {
    const interpreter = `/usr/bin/${runtime}`;
    try {
      const { stdout, stderr } = await run(interpreter, ['--version'], { timeout: 5000 });
      versions[runtime] = `${runtime}-${/Python (\S+)/.exec(`${stdout}${stderr}`)?.[1] ?? ''}`;
    } catch {
      versions[runtime] = runtime;
    }
  }
  return { identifiers: [node, ...pythons, 'provided.al2023', 'provided.al2'], versions };
}
