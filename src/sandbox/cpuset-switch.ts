/**
 * Moves a cpuset between one CPU (`colocate(true)`) and every CPU (`colocate(false)`), writing
 * only when it changes; a write that fails (the cgroup is gone) leaves it where it was.
 */
import type { Colocatable } from '../environment/colocation-policy.js';

export function cpusetSwitch(
  setCpus: (cpus: string) => void,
  oneCpu: string,
  anyCpu: string,
): Colocatable {
  let colocated = false;
  return {
    colocate: (on) => {
      if (on === colocated) return true;
      try {
        setCpus(on ? oneCpu : anyCpu);
        colocated = on;
        return true;
      } catch {
        return false;
      }
    },
  };
}
