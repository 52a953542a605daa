/** Migrating from certbot: reading its renewal confs, accounts and lineages, and importing them into a certman store. */
export { importCertbot, methodFromConf, certbotKeySpec, IMPORTED_CONF_SUFFIX } from './import.js';
export type { AccountReport, ImportDeps, ImportOptions, ImportReport, ImportTarget, LineageReport, PathChange, SkipKind } from './import.js';
export { jwkToPem, findCertbotAccount, readCertbotAccount, certbotAccountsDir, type CertbotAccount } from './account.js';
export { parseConfigObj, confBool, confList, confString, ConfSyntaxError, type ConfSection, type ConfValue } from './configobj.js';
export { parseRenewalConf, certbotServer, renewBeforeExpiryDays, LETSENCRYPT_DIRECTORY, type CertbotRenewalConf } from './renewal-conf.js';
