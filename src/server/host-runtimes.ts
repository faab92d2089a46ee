/** Finds the managed runtimes this host can run: its Node.js major and its python3. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
  try {
    const { stdout, stderr } = await run('python3', ['--version'], { timeout: 5000 });
    const match = /Python (\d+)\.(\d+)\.(\d+)/.exec(`${stdout}${stderr}`);
    if (match !== null)
      versions[`python${match[1]}.${match[2]}`] = `python-${match[1]}.${match[2]}.${match[3]}`;
  } catch {
    // no python3 on this host: python runtimes are simply not offered
  }
  const identifiers = [
    node,
    ...Object.keys(versions).filter((id) => id.startsWith('python')),
    'provided.al2023',
    'provided.al2',
  ];
  return { identifiers, versions };
}
