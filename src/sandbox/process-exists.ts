/** Whether a process still exists: how a server recognises what a server that died left behind. */

/** True for this process, and for one that exists as another user's (EPERM). */
export function processExists(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
