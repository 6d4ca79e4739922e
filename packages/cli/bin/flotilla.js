#!/usr/bin/env -S node --initial-old-space-size=512
// A committed launcher so npm can link the `flotilla` bin at install time, before the
// TypeScript build has produced dist/. The node flag: see src/node-flags.ts.
import { main } from '../dist/bin.js';

await main(process.argv.slice(2));
