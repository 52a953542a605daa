// kill -9 of `renew --force`, kills 51-100 of 100 (see kill-renew.ts).
import { killRenewSuite } from './kill-renew.js';

killRenewSuite(51, 50);
