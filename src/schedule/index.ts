/** `certman schedule`: the twice-daily `certman renew -q` as a cron entry or a systemd timer. */
export { machineIdentity, scheduleSlot, slotTimes, type Slot } from './slot.js';
export {
  BLOCK_BEGIN,
  BLOCK_END,
  cronCommand,
  cronDFile,
  cronTimeFields,
  cronUserBlock,
  planSchedule,
  renewCommand,
  replaceCrontabBlock,
  serviceUnit,
  shellQuote,
  systemdQuote,
  timerUnit,
  unitDir,
  type RenewGlobals,
  type ScheduleFile,
  type ScheduleKind,
  type SchedulePlan,
  type ScheduleRequest,
  type ScheduleScope,
} from './render.js';
export { installSchedule, systemDeps, writeFileAtomic, type Activation, type CommandOutcome, type InstallDeps, type InstallResult, type InstallStatus } from './install.js';
