#!/usr/bin/env node
// Launcher for bench/startup.ts (the benchmarks share TypeScript helpers): registers tsx's loader, then
// runs it. Same as `node --import tsx bench/startup.ts`; RUNS=N sets the number of runs (default 30).
import { register } from 'tsx/esm/api';

register();
await import('./startup.ts');
