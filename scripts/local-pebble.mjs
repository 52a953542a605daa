#!/usr/bin/env node
// Launcher for scripts/local-pebble.ts (the harness is TypeScript): registers
// tsx's loader, then runs it. Same as `node --import tsx scripts/local-pebble.ts`.
import { register } from 'tsx/esm/api';

register();
await import('./local-pebble.ts');
