import { describe, expect, it } from 'vitest';
import { runFlotilla } from '../src/run-flotilla.js';

// A worker with nowhere to connect gives up at once: enough to see what it says at start.
const args = ['worker', '--connect', 'ws://127.0.0.1:9', '--token', 't', '--retry-for', '0'];

describe('node flags', () => {
  it('a worker started without the launcher\'s node flags says so on stderr, and still runs', () => {
    const bare = runFlotilla(args, { timeoutMs: 60_000, nodeFlags: [] });
    expect(bare.stderr).toMatch(/flotilla: note: node was started without --initial-old-space-size=512, so distributed steps run about 10% slower; npx flotilla passes it/);
    expect(bare.stderr).toMatch(/cannot reach the coordinator at ws:\/\/127\.0\.0\.1:9/);
    expect(bare.status).toBe(1);
  });

  it('started as the bin starts it, it does not', () => {
    const flagged = runFlotilla(args, { timeoutMs: 60_000 });
    expect(flagged.stderr).not.toMatch(/note: node was started without/);
    expect(flagged.stderr).toMatch(/cannot reach the coordinator/);
    expect(flagged.status).toBe(1);
  });
});
