// Memory of a process as Linux reports it in /proc/<pid>/status.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set size now, in KiB (VmRSS). */
  rssKb: number;
  /** The largest resident set size the process ever had, in KiB (VmHWM, the high-water mark). */
  peakKb: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
}
