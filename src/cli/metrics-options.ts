import type { Settings } from '../config/types.js';
import type { StoreMetricsOptions } from '../metrics/certificates.js';
import { budgetOptions } from './budget-options.js';
import { dueOptions } from './due-options.js';

/** The store metrics of this config at `now`: its renewal window and CA budget settings, as `certificates` uses them. */
export function storeMetricsOptions(settings: Settings, now: Date): StoreMetricsOptions {
  return { due: dueOptions(settings), budget: budgetOptions(settings), now };
}
