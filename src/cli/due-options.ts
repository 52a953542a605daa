import type { Settings } from '../config/types.js';
import type { DueOptions } from '../lineage/due.js';

/** The renewal-window settings of this run: `--days` (when given) over the config's renewDays and spread. */
export function dueOptions(settings: Settings, days?: number): DueOptions {
  return {
    ...(days === undefined ? {} : { days }),
    ...(settings.renewDays === undefined ? {} : { defaultDays: settings.renewDays }),
    ...(settings.renewalSpread === undefined ? {} : { spreadFraction: settings.renewalSpread }),
  };
}
