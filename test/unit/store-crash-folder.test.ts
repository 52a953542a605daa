// save() killed before each of its steps, starting from a real live/<name> folder, which the save moves into a
// slot (see store-crash-kit.ts).
import { describeKillsAtEachStep } from './store-crash-kit.js';

describeKillsAtEachStep('folder');
