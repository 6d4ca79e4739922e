/**
 * Node flags for every flotilla process (the launcher's shebang and `npm start` pass the
 * same ones; processes we spawn get them here).
 *
 * Each step allocates megabytes of short-lived ArrayBuffers (socket reads of parameter and
 * gradient frames). V8 counts them against the old generation's allocation limit, which
 * starts small for a heap this small, and so ran a full mark-compact about once a step
 * (5-20 ms each; 52 in a 60-step coordinator run). With a larger initial limit they are left
 * to the scavenges that free them anyway (3 mark-compacts in the same run): 2 workers × 1
 * thread went from about 3,240 to 3,500 samples/s here. The flag cannot go in NODE_OPTIONS
 * and has no effect when set at run time, hence the command line.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=512'];

/** The NODE_FLAGS this process was started without (compared by name, not value). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const name = (flag: string): string => flag.split('=')[0].replace(/_/g, '-');
  const given = new Set(execArgv.map(name));
  return NODE_FLAGS.filter((flag) => !given.has(name(flag)));
}

/**
 * One line on stderr when a process that moves gradients each step (a coordinator, a worker,
 * a benchmark of them) was started without NODE_FLAGS, e.g. as `node bin/flotilla.js` rather
 * than `npx flotilla` or the bin itself: it still works, only slower (2 workers × 1 thread
 * here: 6,850-7,460 against 7,820-8,210 samples/s), and the reason is not otherwise visible.
 */
export function noteMissingNodeFlags(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  const missing = missingNodeFlags();
  if (missing.length === 0) return;
  write(`flotilla: note: node was started without ${missing.join(' ')}, so distributed steps run about 10% slower; ` +
    'npx flotilla passes it, as does running packages/cli/bin/flotilla.js as a program rather than through node');
}
