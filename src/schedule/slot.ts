/**
 * When the twice-daily renewal runs. The minute and hour are chosen "at random" once per machine:
 * derived from a hash of the machine id and the config dir, so every run of `certman schedule`
 * prints the same times on one machine, and a fleet does not hit the CA at the same minute.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/** The two daily runs: `hours[1]` is always `hours[0] + 12`. */
export interface Slot {
  minute: number;
  hours: [number, number];
}

/** The same `machineId` and `configDir` always give the same slot. */
export function scheduleSlot(machineId: string, configDir: string): Slot {
  const digest = createHash('sha256').update(`certman schedule\0${machineId}\0${configDir}`).digest();
  const n = digest.readUInt32BE(0);
  const minute = n % 60;
  const hour = Math.floor(n / 60) % 12;
  return { minute, hours: [hour, hour + 12] };
}

/** `03:17` style times of both runs. */
export function slotTimes(slot: Slot): [string, string] {
  const hhmm = (hour: number) => `${String(hour).padStart(2, '0')}:${String(slot.minute).padStart(2, '0')}`;
  return [hhmm(slot.hours[0]), hhmm(slot.hours[1])];
}

/** `/etc/machine-id` when it has one, else the host name. */
export async function machineIdentity(machineIdFile = '/etc/machine-id'): Promise<string> {
  try {
    const id = (await readFile(machineIdFile, 'utf8')).trim();
    if (id !== '') return id;
  } catch {
    // containers and minimal systems may have none: fall back to the host name
  }
  return hostname();
}
