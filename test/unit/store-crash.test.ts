// save() killed before each of its steps, starting from live/ slots (see store-crash-kit.ts).
import { describeKillsAtEachStep } from './store-crash-kit.js';

describeKillsAtEachStep('slots');
