// kill -9 of `renew --force`, kills 1-50 of 100 (see kill-renew.ts).
import { killRenewSuite } from './kill-renew.js';

killRenewSuite(1, 50);
