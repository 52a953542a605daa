import type { Settings } from '../config/types.js';
import type { CaBudgetOptions } from '../renewal/ca-budget.js';

/** The CA budget's limits from the config (config failedValidationLimit, newOrderLimit); defaults otherwise. */
export function budgetOptions(settings: Settings): CaBudgetOptions {
  return {
    ...(settings.failedValidationLimit === undefined ? {} : { failedValidationLimit: settings.failedValidationLimit }),
    ...(settings.newOrderLimit === undefined ? {} : { newOrderLimit: settings.newOrderLimit }),
  };
}

/** For the help of the commands that order (issue, renew): the budget's limits next to the CA's own. */
export const BUDGET_HELP =
  "\nCA budget (counted in the store, so shared by every node that uses it): after failedValidationLimit failed\n" +
  "validations of a name by an account within an hour (default 3; Let's Encrypt refuses the name after 5) or\n" +
  "newOrderLimit new orders by an account within 3 hours (default 300, Let's Encrypt's limit), certman sends\n" +
  'nothing more to the CA and says until when; `certman certificates` shows what is deferred.';
