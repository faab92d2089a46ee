/** The process's file descriptor limit (the soft `RLIMIT_NOFILE`, from /proc). */
import { readFileSync } from 'node:fs';

/** Descriptors this process may open; 1,024 (the usual default) when it cannot be read. */
export function descriptorLimit(limitsFile = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return 1_048_576;
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : 1024;
  } catch {
    return 1024;
  }
}
