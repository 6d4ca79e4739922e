import { randomUUID } from 'node:crypto';
import { evaluate, matmulKernelLabel, ModelEarlyStopping, shardRanges, takeFirst, type Dataset } from '@flotilla/core';
import {
  CpuClock, decodeMessage, encodeMessage, FramePool, frameLimits, minPartFloats, PROTOCOL_VERSION, ProtocolError, Timeline, validateAgainst, type Message, type WorkerMessage,
} from '@flotilla/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { MemberLost, StepRound } from './step-round.js';
import { writeFileAtomic } from './files.js';
import { workerConfigOf, type RunConfig } from './run-config.js';
import type { RunDir } from './run-dir.js';
import { tokensMatch } from './token.js';
import { TraceFile } from './trace-file.js';
import { TrainingState, type BatchAssignment } from './training-state.js';

export interface CoordinatorOptions {
  config: RunConfig;
  train: Dataset;
  test: Dataset;
  /** Validation split, evaluated at each epoch end beside the test set. */
  val?: Dataset;
  /** Class names of a character model, saved in checkpoints for `flotilla sample`. */
  vocab?: string;
  runDir: RunDir;
  token: string;
  host?: string;
  port?: number;
  /** Workers to wait for before the first step. */
  workers: number;
  /** How long to wait for them. */
  joinTimeoutMs?: number;
  /** A worker silent for this long (no message, no heartbeat) is dropped. */
  heartbeatTimeoutMs?: number;
  /** Resume from this checkpoint of the same run (weights, optimizer, EMA, step). */
  resume?: { bytes: Uint8Array; path: string };
  /** Progress and log lines, for the CLI. */
  onEvent?: (event: CoordinatorEvent) => void;
  /**
   * Record where every process and thread spends steps `from` to `to` (inclusive; to may be
   * Infinity): the coordinator's own spans and the workers' trace messages, into the run
   * folder's timeline.json, a Chrome trace.
   */
  timeline?: { from: number; to: number };
}

export type CoordinatorEvent =
  | { kind: 'listening'; port: number; host: string }
  | { kind: 'worker-joined'; workerId: number; threads: number; host: string }
  | { kind: 'worker-refused'; reason: string }
  | { kind: 'worker-left'; workerId: number; reason: string }
  | { kind: 'step'; step: number; totalSteps: number; epoch: number; loss: number; samplesPerSec: number }
  | { kind: 'epoch'; epoch: number; testAccuracy: number; testLoss: number; emaAccuracy: number; valLoss?: number }
  | { kind: 'step-redone'; step: number; attempt: number; reason: string }
  | { kind: 'resumed'; step: number; path: string }
  | { kind: 'warning'; message: string };

export interface RunSummary {
  test_accuracy: number;
  test_loss: number;
  ema_test_accuracy: number;
  ema_test_loss: number;
  /** Mean NLL on the validation split (nats per example, i.e. per character for a character model). */
  val_loss?: number;
  samples_per_sec: number;
  steps: number;
  epochs: number;
  workers: number;
  threads: number;
  seconds: number;
  skipped_steps: number;
  redone_steps: number;
  refused_connections: number;
  dropped_workers: number;
  stopped_early?: boolean;
  run_dir: string;
  checkpoint: string;
}

interface WorkerConn {
  id: number;
  ws: WebSocket;
  threads: number;
  host: string;
  lastSeen: number;
  /** Trace messages taken from this worker for its latest traced step (see MAX_TRACE_MESSAGES). */
  traced: { step: number; messages: number };
}

/**
 * Trace messages a worker may send per step (each up to MAX_TRACE_EVENTS spans): a step's
 * spans fill one; more is a flood, and is dropped before it reaches the disk.
 */
const MAX_TRACE_MESSAGES = 4;


const HELLO_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 2_000;
/** Training samples over which the EMA weights' BatchNorm statistics are recomputed. */
const EMA_CALIBRATION_SAMPLES = 10_000;
/** After this many non-finite steps in a row the run stops, keeping its last good checkpoint. */
const MAX_CONSECUTIVE_SKIPS = 5;

/**
 * The coordinator: a WebSocket server that admits workers (hello with version and token),
 * assigns each step's global batch as position ranges weighted by thread counts, serves the
 * SyncBN all-reduces, sums the gradients, steps the optimizer, keeps the EMA, evaluates at
 * epoch ends, and writes metrics and atomic checkpoints.
 */
export class Coordinator {
  readonly state: TrainingState;
  private server: WebSocketServer | null = null;
  private readonly workers = new Map<number, WorkerConn>();
  private nextWorkerId = 0;
  private current: StepRound | null = null;
  private joinWaiter: (() => void) | null = null;
  private readonly buffersSum: Float32Array;
  private stopping = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly counters = { refused: 0, dropped: 0, redone: 0 };
  /** Recycled buffers for the parameter frame sent every step (see FramePool). */
  private readonly frames = new FramePool(2);
  readonly runId: string;
  /** This process's spans; with the workers' they go to `trace` at each step's end. */
  private readonly timeline: Timeline;
  private trace: TraceFile | null = null;

  constructor(private readonly options: CoordinatorOptions) {
    this.state = new TrainingState(options.config, options.train.count);
    this.buffersSum = new Float32Array(this.state.model.buffers.length);
    this.runId = randomUUID();
    this.timeline = new Timeline(false);
    if (options.resume) {
      const restored = this.state.restore(options.resume.bytes);
      if (typeof restored.runId === 'string') this.runId = restored.runId;
    }
  }

  private emit(event: CoordinatorEvent): void {
    this.options.onEvent?.(event);
  }

  private get counts(): { paramCount: number; bufferCount: number } {
    return { paramCount: this.state.model.params.length, bufferCount: this.state.model.buffers.length };
  }

  /** Starts listening; resolves with the port (useful with port 0). */
  async listen(): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    // The largest legitimate frame: a gradient (params + buffers floats) or a SyncBN round.
    const maxPayload = frameLimits(this.counts).maxFrameBytes;
    const server = new WebSocketServer({ host, port: this.options.port ?? 0, perMessageDeflate: false, maxPayload });
    this.server = server;
    server.on('connection', (ws, request) => this.admit(ws, request.socket.remoteAddress ?? '?'));
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const timeoutMs = this.options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    const heartbeat = encodeMessage({ type: 'heartbeat', time: 0 });
    let lastBeat = 0;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      // Workers watch for our silence too: a cut link is noticed from both ends.
      if (now - lastBeat >= HEARTBEAT_INTERVAL_MS) {
        lastBeat = now;
        for (const w of this.workers.values()) if (w.ws.readyState === w.ws.OPEN) w.ws.send(heartbeat);
      }
      for (const w of [...this.workers.values()]) {
        if (now - w.lastSeen > timeoutMs) this.dropWorker(w, `heartbeat timeout: silent for ${((now - w.lastSeen) / 1000).toFixed(1)} s`);
      }
    }, Math.min(1000, timeoutMs / 4));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    this.emit({ kind: 'listening', port, host });
    return port;
  }

  private send(ws: WebSocket, message: Message): void {
    ws.send(encodeMessage(message));
  }

  private refuse(ws: WebSocket, code: string, message: string): void {
    this.counters.refused++;
    this.emit({ kind: 'worker-refused', reason: message });
    try {
      this.send(ws, { type: 'error', code, message });
    } finally {
      ws.close(1008, message.slice(0, 120));
    }
  }

  private admit(ws: WebSocket, host: string): void {
    const helloTimer = setTimeout(() => this.refuse(ws, 'no-hello', `no hello within ${HELLO_TIMEOUT_MS / 1000} s`), HELLO_TIMEOUT_MS);
    let conn: WorkerConn | null = null;
    ws.on('message', (data, isBinary) => {
      const received = performance.now();
      let message: Message;
      try {
        if (!isBinary) throw new ProtocolError('bad-frame', 'text frames are not part of the protocol');
        // ws hands each listener a Buffer of its own: aligned payloads are used in place.
        message = validateAgainst(decodeMessage(data as Buffer, { owned: true }), this.counts);
      } catch (error) {
        const code = error instanceof ProtocolError ? error.code : 'bad-frame';
        if (conn) this.dropWorker(conn, `sent a malformed message: ${(error as Error).message}`);
        else { clearTimeout(helloTimer); this.refuse(ws, code, (error as Error).message); }
        return;
      }
      if (conn === null) {
        clearTimeout(helloTimer);
        conn = this.hello(ws, host, message);
        return;
      }
      conn.lastSeen = Date.now();
      this.handle(conn, message as WorkerMessage);
      // Decoding, checking and summing; what is cheap stays out of the timeline.
      if (message.type === 'gradient' || message.type === 'gradient-part' || message.type === 'bn') {
        this.timeline.span(`receive ${message.type}`, received, 0, { worker: conn.id });
      }
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      if (conn && this.workers.has(conn.id)) this.dropWorker(conn, 'connection closed');
    });
    ws.on('error', () => { /* 'close' follows and handles it */ });
  }

  private hello(ws: WebSocket, host: string, message: Message): WorkerConn | null {
    if (message.type !== 'hello') {
      this.refuse(ws, 'no-hello', `expected hello first, got ${message.type}`);
      return null;
    }
    if (message.version !== PROTOCOL_VERSION) {
      this.refuse(ws, 'version', `protocol version ${message.version} is not supported (coordinator speaks ${PROTOCOL_VERSION})`);
      return null;
    }
    if (!tokensMatch(message.token, this.options.token)) {
      this.refuse(ws, 'auth', 'authentication failed: wrong token');
      return null;
    }
    if (this.stopping) {
      this.refuse(ws, 'finished', 'the run is finishing');
      return null;
    }
    const conn: WorkerConn = { id: this.nextWorkerId++, ws, threads: message.threads, host: message.host ?? host, lastSeen: Date.now(), traced: { step: -1, messages: 0 } };
    this.workers.set(conn.id, conn);
    this.send(ws, {
      type: 'welcome', workerId: conn.id, runId: this.runId, spec: this.state.model.spec, config: workerConfigOf(this.options.config),
      step: this.state.step, params: this.state.model.params as Float32Array, buffers: this.state.model.buffers as Float32Array,
    });
    this.emit({ kind: 'worker-joined', workerId: conn.id, threads: conn.threads, host: conn.host });
    this.trace?.name(conn.id + 1, `worker ${conn.id} (${conn.host}${message.pid === undefined ? '' : `, pid ${message.pid}`})`, {
      0: 'main', ...Object.fromEntries(Array.from({ length: conn.threads }, (_, k) => [k + 1, `compute ${k}`])),
    });
    const mine = matmulKernelLabel();
    if (message.matmul !== undefined && message.matmul !== mine) {
      this.emit({
        kind: 'warning', message: `worker ${conn.id} (${conn.host}) computes with matmul kernel ${message.matmul}, this coordinator with ${mine}: ` +
          'the run still trains the same model, but only up to rounding, not bit for bit as on one kernel (set FLOTILLA_MATMUL alike everywhere)',
      });
    }
    this.joinWaiter?.();
    return conn;
  }

  private handle(conn: WorkerConn, message: WorkerMessage): void {
    const step = this.current;
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'bye':
        this.dropWorker(conn, `said bye: ${message.reason}`);
        return;
      case 'error':
        this.dropWorker(conn, `reported an error: ${message.message}`);
        return;
      case 'hello':
        this.dropWorker(conn, 'sent a second hello');
        return;
      case 'trace':
        // Only spans of steps the run records and has assigned, a step's worth per worker.
        // A worker's steps only move forward, so a step before its last traced one is a replay.
        if (!this.trace || !this.records(message.step) || message.step > this.state.step || message.step < conn.traced.step) return;
        if (conn.traced.step !== message.step) conn.traced = { step: message.step, messages: 0 };
        if (++conn.traced.messages > MAX_TRACE_MESSAGES) return;
        this.trace.spans(conn.id + 1, message.events);
        return;
      case 'bn':
      case 'gradient':
      case 'gradient-part': {
        const verdict = step ? step.verdict(conn.id, message.step, message.attempt ?? 0) : 'invalid';
        if (verdict === 'stale') return; // left over from an abandoned attempt: harmless
        if (verdict === 'invalid' || !step) {
          this.dropWorker(conn, `sent a ${message.type} message for step ${message.step} (attempt ${message.attempt ?? 0}) out of turn`);
          return;
        }
        try {
          if (message.type === 'gradient') {
            step.addGradient(conn.id, message);
            return;
          }
          if (message.type === 'gradient-part') {
            step.addGradientPart(conn.id, message);
            return;
          }
          const reply = step.addBatchNorm(conn.id, message);
          if (!reply) return;
          const frame = encodeMessage({ type: 'bn', step: message.step, attempt: step.attempt, layer: message.layer, phase: message.phase, ...reply });
          for (const id of step.members) this.workers.get(id)?.ws.send(frame);
        } catch (error) {
          this.dropWorker(conn, (error as Error).message);
        }
        return;
      }
      default:
        this.dropWorker(conn, `sent a ${(message as Message).type} message, which workers may not send`);
    }
  }

  private dropWorker(conn: WorkerConn, reason: string): void {
    if (!this.workers.delete(conn.id)) return;
    this.counters.dropped++;
    this.emit({ kind: 'worker-left', workerId: conn.id, reason });
    if (conn.ws.readyState === conn.ws.OPEN) {
      try { this.send(conn.ws, { type: 'error', code: 'dropped', message: reason }); } catch { /* closing anyway */ }
      conn.ws.close(1008, reason.slice(0, 120));
      // A stopped process cannot answer the closing handshake; do not wait for it.
      setTimeout(() => conn.ws.terminate(), 2000).unref();
    }
    this.current?.lose(conn.id, reason);
  }

  private async waitForWorkers(wanted: number): Promise<void> {
    const timeoutMs = this.options.joinTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    while (this.workers.size < wanted) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.workers.size} of ${wanted} workers joined within ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.joinWaiter = () => { clearTimeout(timer); resolve(); };
      });
      this.joinWaiter = null;
    }
  }

  /** Starts one attempt at a step across the current workers. */
  private startRound(assignment: BatchAssignment, attempt: number): StepRound {
    const members = [...this.workers.keys()].sort((x, y) => x - y);
    const ranges = shardRanges(assignment.globalBatch, members.map((id) => this.workers.get(id)!.threads));
    const round = new StepRound(assignment, attempt, members, this.state.grads, minPartFloats(this.options.config.bucketMb));
    this.current = round;
    const { model } = this.state;
    // One parameter frame for all members, back to the pool once every socket has written it.
    const encoding = performance.now();
    const params = encodeMessage({ type: 'params', step: assignment.step, params: model.params as Float32Array, buffers: model.buffers as Float32Array }, this.frames.alloc);
    const written = this.frames.releaseAfter(params, members.length);
    this.timeline.span('encode params', encoding);
    const sending = performance.now();
    // The small step message first: written behind a megabyte frame it could wait for the
    // socket to drain, and for this event loop to get back to it.
    members.forEach((id, i) => {
      const { ws } = this.workers.get(id)!;
      this.send(ws, {
        type: 'step', ...assignment, attempt, start: ranges[i].start, end: ranges[i].end, members: members.length, ...(this.timeline.enabled ? { trace: true } : {}),
      });
      ws.send(params, written);
    });
    this.timeline.span('send params', sending, 0, { workers: members.length });
    return round;
  }

  /** Runs a step to completion, redoing it without any worker lost on the way. */
  private async completeStep(assignment: BatchAssignment): Promise<StepRound> {
    for (let attempt = 0; ; attempt++) {
      if (this.workers.size === 0) {
        this.emit({ kind: 'warning', message: `no workers left at step ${assignment.step}; waiting for one to join` });
        await this.waitForWorkers(1);
      }
      const round = this.startRound(assignment, attempt);
      const folding = performance.now();
      this.state.flushEma(); // the parameters are on their way: fold them into the EMA meanwhile
      this.timeline.span('EMA', folding);
      try {
        await round.done;
        return round;
      } catch (error) {
        if (!(error instanceof MemberLost)) throw error;
        this.counters.redone++;
        this.emit({ kind: 'step-redone', step: assignment.step, attempt: attempt + 1, reason: error.message });
      }
    }
  }

  /** Trains to the end: waits for the workers, runs every step, evaluates and checkpoints. */
  async run(): Promise<RunSummary> {
    const { state, options } = this;
    const { runDir, config } = options;
    runDir.writeJson('config.json', config);
    if (options.timeline) {
      this.trace = new TraceFile(runDir.timelinePath(options.resume ? state.step : 0));
      this.trace.name(0, 'coordinator', { 0: 'main' });
    }
    await this.waitForWorkers(options.workers);
    if (options.resume) {
      runDir.truncateMetricsAt(state.step);
      this.emit({ kind: 'resumed', step: state.step, path: options.resume.path });
    }
    const started = performance.now();
    let trained = 0, busySeconds = 0, skipped = 0, consecutiveSkips = 0, lastCheckpoint = '';
    let valLoss: number | undefined;
    let stoppedEarly = false;
    // The coordinator's CPU over each step (t0 to t2), all its threads: metrics' coordinator_cpu_ms.
    const cpu = new CpuClock(() => process.cpuUsage());
    // Early stopping needs a validation split; without one, --patience has nothing to watch.
    const stopper = config.patience > 0 && options.val ? new ModelEarlyStopping(state.model, config.patience) : null;
    // A resumed run continues its early stopping (best so far, checks without improvement).
    const restored = state.restoredEarlyStopping;
    if (stopper && restored) stopper.load(restored.counters, restored.params, restored.buffers);
    if (config.patience > 0 && !options.val) this.emit({ kind: 'warning', message: `--patience ${config.patience} ignored: data set ${config.dataset} has no validation split` });
    let last = { live: { accuracy: NaN, loss: NaN, count: 0 }, ema: { accuracy: NaN, loss: NaN, count: 0 } };
    const save = (name: string): string => {
      const path = runDir.checkpointPath(name);
      writeFileAtomic(path, state.checkpoint({ runId: this.runId, seed: config.seed, dataset: config.dataset, ...(options.vocab ? { vocab: options.vocab } : {}) }, stopper));
      return path;
    };
    try {
      while (!state.done && !stoppedEarly) {
        const assignment = state.assignment();
        this.timeline.enabled = this.records(assignment.step);
        const t0 = performance.now();
        cpu.lap();
        const round = await this.completeStep(assignment);
        const t1 = performance.now();
        // A diverged step is skipped without waiting for (or summing) the other members.
        const { diverged } = round;
        const reduced = diverged ? { samples: 0, loss: NaN, computeMs: 0, bnWaitMs: 0, workersCpuMs: null } : round.gradients.reduceInto(this.buffersSum);
        if (diverged) state.grads.fill(NaN); // no gradient this step (what is there is partial)
        if (!diverged) state.model.buffers.set(this.buffersSum);
        const applied = state.apply(diverged ? NaN : reduced.loss);
        const t2 = performance.now();
        const coordinatorCpuMs = cpu.lap();
        this.timeline.span('optimizer', t1, 0, { step: assignment.step });
        const seconds = (t2 - t0) / 1000;
        busySeconds += seconds;
        trained += reduced.samples;
        if (applied.skipped) {
          skipped++;
          consecutiveSkips++;
          this.emit({
            kind: 'warning', message: !diverged
              ? `step ${assignment.step} skipped: non-finite loss or gradient (loss ${reduced.loss}, gradient norm ${applied.gradNorm})`
              : round.nonFinite.size > 0
                ? `step ${assignment.step} skipped: worker ${[...round.nonFinite].join(', ')} computed non-finite values (loss, gradient or BatchNorm statistics)`
                : `step ${assignment.step} skipped: the merged BatchNorm statistics of layer ${round.overflowLayer} overflowed`,
          });
          if (consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) throw new Error(`${consecutiveSkips} non-finite steps in a row; stopping. Last good checkpoint: ${lastCheckpoint || 'none yet'}`);
        } else consecutiveSkips = 0;
        runDir.appendMetrics({
          kind: 'step', step: assignment.step, epoch: assignment.epoch, loss: reduced.loss, lr: applied.lr, grad_norm: applied.gradNorm,
          skipped: applied.skipped, samples: reduced.samples, samples_per_sec: reduced.samples / seconds, grad_parts: round.gradients.parts,
          step_ms: t2 - t0, compute_ms: reduced.computeMs, bn_wait_ms: reduced.bnWaitMs,
          communication_ms: Math.max(0, t1 - t0 - reduced.computeMs - reduced.bnWaitMs), optimizer_ms: t2 - t1,
          // A redone step's workers reported their CPU for the abandoned attempts with gradients
          // that were dropped, so theirs would be understated: left out.
          coordinator_cpu_ms: coordinatorCpuMs, ...(reduced.workersCpuMs === null || round.attempt > 0 ? {} : { workers_cpu_ms: reduced.workersCpuMs }),
        });
        this.emit({ kind: 'step', step: assignment.step, totalSteps: state.totalSteps, epoch: assignment.epoch, loss: reduced.loss, samplesPerSec: trained / busySeconds });
        const epochEnd = state.endsEpoch(assignment.step);
        if (epochEnd || state.done) {
          last = state.evaluate(options.test, takeFirst(options.train, EMA_CALIBRATION_SAMPLES));
          valLoss = options.val ? evaluate(state.model, options.val).loss : undefined;
          runDir.appendMetrics({
            kind: 'epoch', epoch: assignment.epoch + 1, step: state.step, test_loss: last.live.loss, test_accuracy: last.live.accuracy,
            ema_test_loss: last.ema.loss, ema_test_accuracy: last.ema.accuracy, ...(valLoss === undefined ? {} : { val_loss: valLoss }),
          });
          this.emit({ kind: 'epoch', epoch: assignment.epoch + 1, testAccuracy: last.live.accuracy, testLoss: last.live.loss, emaAccuracy: last.ema.accuracy, valLoss });
          if (stopper && valLoss !== undefined && stopper.update(valLoss)) {
            stoppedEarly = true;
            this.emit({ kind: 'warning', message: `early stopping: validation loss has not improved for ${config.patience} epochs; restoring the weights of epoch ${stopper.bestCheck + 1}` });
          }
          // After the early-stopping check, so a run resumed from this checkpoint has seen it.
          if (epochEnd) lastCheckpoint = save(`epoch-${assignment.epoch + 1}`);
        }
        if (config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0) lastCheckpoint = save(`step-${state.step}`);
        this.timeline.span(`step ${assignment.step}`, t0, 0, { samples: reduced.samples });
        this.trace?.spans(0, this.timeline.drain());
      }
      state.flushEma(); // before early stopping puts older weights back
      if (stopper?.restore()) {
        last = state.evaluate(options.test, takeFirst(options.train, EMA_CALIBRATION_SAMPLES));
        valLoss = evaluate(state.model, options.val!).loss;
      }
      const checkpoint = save('final');
      const summary: RunSummary = {
        test_accuracy: last.live.accuracy, test_loss: last.live.loss, ...(valLoss === undefined ? {} : { val_loss: valLoss }), ema_test_accuracy: last.ema.accuracy, ema_test_loss: last.ema.loss,
        samples_per_sec: trained / busySeconds, steps: state.step, epochs: Math.ceil(state.step / state.batchesPerEpoch),
        workers: this.workers.size, threads: [...this.workers.values()].reduce((s, w) => s + w.threads, 0),
        seconds: (performance.now() - started) / 1000, skipped_steps: skipped, redone_steps: this.counters.redone,
        refused_connections: this.counters.refused, dropped_workers: this.counters.dropped, run_dir: runDir.path, checkpoint,
        ...(stopper ? { stopped_early: stoppedEarly } : {}),
      };
      runDir.writeJson('summary.json', summary);
      return summary;
    } finally {
      await this.close('the run is over');
      this.trace?.close();
    }
  }

  /** Whether the run's timeline records step `step`. */
  private records(step: number): boolean {
    const window = this.options.timeline;
    return window !== undefined && step >= window.from && step <= window.to;
  }

  /** Says bye to every worker and stops listening. */
  async close(reason: string): Promise<void> {
    this.stopping = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const w of this.workers.values()) {
      try { this.send(w.ws, { type: 'bye', reason }); w.ws.close(1000, 'bye'); } catch { /* already gone */ }
    }
    this.workers.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
