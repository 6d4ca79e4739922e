import type { BnMessage, GradientMessage, GradientPartMessage } from '@flotilla/protocol';
import { BatchNormReduction } from './bn-reduction.js';
import { GradientSum } from './gradient-sum.js';
import type { BatchAssignment } from './training-state.js';

/** A member left (or was dropped) mid-step: the step is redone without it. */
export class MemberLost extends Error {}

/** What to do with a message that names a step. */
export type Verdict = 'current' | 'stale' | 'invalid';

/**
 * One attempt at one step: the members it was assigned to, their SyncBN rounds and their
 * gradients. Completes when every member's gradient is in, or early when the step diverged
 * (a member reports non-finite values, or merged statistics overflow: `diverged`); fails
 * with MemberLost when a member goes away, and the coordinator then redoes the step
 * (attempt + 1) without it.
 */
export class StepRound {
  readonly gradients: GradientSum;
  private readonly reductions = new Map<string, BatchNormReduction>();
  /**
   * Members whose loss, gradient or SyncBN statistics came out non-finite: the step is
   * skipped, and the round ends at the first report (the others' work is moot, and a member
   * that diverged inside a SyncBN round leaves the others waiting at it).
   */
  readonly nonFinite = new Set<number>();
  /** The BatchNorm layer whose merged statistics overflowed (finite shards), if one did: skipped too. */
  overflowLayer: number | null = null;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  /**
   * `grads`: where the summed gradient goes (parts are summed into it as they arrive);
   * `minPartFloats`: the smallest gradient part this run allows.
   */
  constructor(readonly assignment: BatchAssignment, readonly attempt: number, readonly members: readonly number[], grads: Float32Array, minPartFloats = Infinity) {
    this.gradients = new GradientSum(members, grads, minPartFloats);
    this.done = new Promise<void>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    this.done.catch(() => { /* the run loop handles it */ });
  }

  /** Current, left over from an earlier step or attempt (ignored), or impossible (the sender is dropped). */
  verdict(workerId: number, step: number, attempt: number): Verdict {
    const here = this.assignment.step;
    if (step < here || (step === here && attempt < this.attempt)) return 'stale';
    if (step !== here || attempt !== this.attempt || !this.members.includes(workerId)) return 'invalid';
    return 'current';
  }

  /** Adds a SyncBN contribution; returns the reply once every member has sent this round. */
  addBatchNorm(workerId: number, m: BnMessage): { count: number; values: Float64Array } | null {
    const key = `${m.layer}:${m.phase}`;
    const channels = m.values.length / 2;
    let reduction = this.reductions.get(key);
    if (!reduction) {
      reduction = new BatchNormReduction(m.phase, channels, this.members);
      this.reductions.set(key, reduction);
    }
    if (!reduction.add({ workerId, count: m.count, a: m.values.subarray(0, channels), b: m.values.subarray(channels) })) return null;
    this.reductions.delete(key);
    const { count, a, b } = reduction.result();
    // Finite shards can still merge into an overflow; such statistics cannot be sent.
    if (!allFinite(a) || !allFinite(b)) {
      this.overflowLayer = m.layer;
      this.resolve();
      return null;
    }
    const values = new Float64Array(2 * channels);
    values.set(a);
    values.set(b, channels);
    return { count, values };
  }

  addGradientPart(workerId: number, m: GradientPartMessage): void {
    this.gradients.addPart(workerId, m.offset, m.gradient);
  }

  addGradient(workerId: number, m: GradientMessage): void {
    if (m.nonFinite) {
      this.reportNonFinite(workerId);
      return;
    }
    const complete = this.gradients.add({
      workerId, samples: m.samples, loss: m.lossSum / this.assignment.globalBatch,
      grads: m.gradient, buffers: m.buffers, computeMs: m.timings.computeMs, bnWaitMs: m.timings.bnWaitMs, cpuMs: m.timings.cpuMs,
    }, m.parts ?? 0);
    if (complete) this.resolve();
  }

  /** The step is to be skipped: a member reported non-finite values or statistics overflowed. */
  get diverged(): boolean {
    return this.nonFinite.size > 0 || this.overflowLayer !== null;
  }

  private reportNonFinite(workerId: number): void {
    this.nonFinite.add(workerId);
    this.resolve();
  }

  lose(workerId: number, reason: string): void {
    if (this.members.includes(workerId)) this.reject(new MemberLost(`worker ${workerId} left during step ${this.assignment.step}: ${reason}`));
  }
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
