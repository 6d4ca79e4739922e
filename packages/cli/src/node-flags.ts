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
