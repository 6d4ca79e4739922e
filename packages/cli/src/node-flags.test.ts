import { describe, expect, it } from 'vitest';
import { missingNodeFlags, NODE_FLAGS } from './node-flags.js';

describe('missingNodeFlags', () => {
  it('names the flags a process lacks, matching by name whatever the value or spelling', () => {
    expect(missingNodeFlags([])).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags(['--inspect'])).toEqual(['--initial-old-space-size=512']);
    expect(missingNodeFlags(['--initial-old-space-size=512'])).toEqual([]);
    expect(missingNodeFlags(['--initial-old-space-size=1024'])).toEqual([]); // a user's own value stands
    expect(missingNodeFlags(['--initial_old_space_size=512'])).toEqual([]); // V8 takes either spelling
  });
});
