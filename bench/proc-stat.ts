// CPU time and memory of processes, from Linux's /proc: what bench/local.ts reports beside wall
// time, because CPU time moves much less than wall time when other work shares the machine.

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is
 *  field 3 (state), so field N of proc(5) is at N - 3. */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system, ms) a process has used so far. */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU time (user + system, ms) of this process's children that have exited and been waited for
 *  (cutime + cstime): read before and after one timed command, it is that command's CPU time. */
export function exitedChildrenCpuMs(): number {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** A memory figure of a process in kB, e.g. VmRSS or VmHWM (its peak) from /proc/<pid>/status. */
export function memoryKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
