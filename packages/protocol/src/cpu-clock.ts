/**
 * CPU time of this process (every thread, user + system) between laps, in milliseconds.
 * A worker reports one lap per gradient, the coordinator one per step, so a benchmark can set
 * a step's CPU against the cores it had: a step cannot be shorter than all the CPU it took
 * divided by the machine's cores, however fast the network.
 */
/** Microseconds, as process.cpuUsage() gives them. */
export interface CpuUsage {
  user: number;
  system: number;
}

export class CpuClock {
  private last: CpuUsage;

  /** `usage`: Node's `process.cpuUsage` (this package stays free of Node's globals). */
  constructor(private readonly usage: () => CpuUsage) {
    this.last = this.usage();
  }

  /** Milliseconds of CPU since the previous lap (or since the clock was made). */
  lap(): number {
    const now = this.usage();
    const ms = (now.user - this.last.user + now.system - this.last.system) / 1000;
    this.last = now;
    return ms;
  }
}
