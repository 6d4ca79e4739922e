#!/usr/bin/env node
// A committed launcher so npm can link the `flotilla` bin at install time, before the
// TypeScript build has produced dist/.
import { main } from '../dist/bin.js';

await main(process.argv.slice(2));
