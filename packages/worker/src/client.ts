import { hostname } from 'node:os';
import {
  CpuClock, decodeMessage, encodeMessage, FramePool, MAX_TRACE_EVENTS, PROTOCOL_VERSION, ProtocolError, validateAgainst,
  type CoordinatorMessage, type GradientMessage, type Message, type ParamsMessage, type StepMessage, type TraceEvent,
} from '@flotilla/protocol';
import { matmulKernelLabel } from '@flotilla/core';
import WebSocket from 'ws';
import { RunSession } from './session.js';
import { clientSocketOptions } from './socket-options.js';
import type { BatchNormExchange, SendPartFn } from './step-runner.js';

export interface WorkerOptions {
  /** ws://HOST:PORT of the coordinator. */
  url: string;
  token: string;
  threads: number;
  /** Give up when no connection succeeds for this long (ms). */
  retryForMs?: number;
  log?: (line: string) => void;
}

/** Raised when the coordinator refuses us for good (wrong token, wrong version): no retry. */
export class RefusedError extends Error {}

const HEARTBEAT_MS = 2_000;
/** A coordinator silent this long (it sends heartbeats every 2 s) is taken for gone: reconnect. */
const COORDINATOR_SILENCE_MS = 10_000;

/**
 * A worker process's life: connect (with exponential backoff), hello, build the run from the
 * welcome, then compute every step it is assigned until the coordinator says bye. When the
 * connection drops without a bye it reconnects, keeping its threads and data.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const retryForMs = options.retryForMs ?? 60_000;
  let session: RunSession | null = null;
  let delay = 250;
  let failingSince = Date.now();
  const queue: StepQueue = { chain: Promise.resolve() };
  try {
    for (;;) {
      const outcome = await connectOnce(options, log, session, (s) => { session = s; }, queue);
      if (outcome === 'bye') return;
      if (outcome === 'connected-then-lost') { failingSince = Date.now(); delay = 250; }
      if (Date.now() - failingSince > retryForMs) throw new Error(`cannot reach the coordinator at ${options.url} for ${retryForMs / 1000} s; giving up`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(5_000, delay * 2);
    }
  } finally {
    await (session as RunSession | null)?.close();
  }
}

type Outcome = 'bye' | 'connected-then-lost' | 'failed';

/** Steps run one after another across reconnects: a step abandoned on a lost connection settles before the next one starts. */
interface StepQueue {
  chain: Promise<void>;
}

/** timings.cpuMs when there is a measurement (absent from a connection's first gradient). */
function cpuField(ms: number | undefined): { cpuMs?: number } {
  return ms === undefined ? {} : { cpuMs: ms };
}

function connectOnce(options: WorkerOptions, log: (line: string) => void, existing: RunSession | null, adopt: (s: RunSession) => void, queue: StepQueue): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const ws = new WebSocket(options.url, clientSocketOptions);
    let session = existing;
    let welcomed = false;
    let settled = false;
    let heartbeat: NodeJS.Timeout | null = null;
    const pendingBn = new Map<string, { resolve: (reply: BatchNormExchange) => void; reject: (error: Error) => void }>();
    const finish = (result: Outcome | Error): void => {
      if (settled) return;
      settled = true;
      if (heartbeat) clearInterval(heartbeat);
      abortActive('the connection closed');
      if (result instanceof Error) reject(result); else resolve(result);
    };
    const send = (m: Message): void => { if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(m)); };
    // Gradient frames (megabytes, every step) come from recycled buffers, returned once written.
    const frames = new FramePool(4);
    const sendPooled = (m: Message): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const frame = encodeMessage(m, frames.alloc);
      ws.send(frame, frames.releaseAfter(frame));
    };
    // A step's spans go after its gradient, in messages of at most MAX_TRACE_EVENTS.
    const sendTrace = (step: number, events: TraceEvent[]): void => {
      for (let i = 0; i < events.length; i += MAX_TRACE_EVENTS) send({ type: 'trace', step, events: events.slice(i, i + MAX_TRACE_EVENTS) });
    };
    // This process's CPU from one gradient to the next (every thread: compute and socket work),
    // reported with each. It starts at the connection's first gradient, whose report would
    // otherwise carry the start-up (data, model, V8 warming up) as if it were a step's.
    let cpu: CpuClock | null = null;
    const cpuSinceLastGradient = (): number | undefined => {
      const ms = cpu?.lap();
      cpu ??= new CpuClock(() => process.cpuUsage());
      return ms;
    };
    // The step assigned last, waiting for its parameters (a params message follows each step message).
    let pendingStep: StepMessage | null = null;

    // The step attempt in progress; a newer step message or a lost connection abandons it.
    let active: { step: number; attempt: number } | null = null;
    let latest: unknown = null;
    let lastHeard = Date.now();
    const abortActive = (reason: string): void => {
      if (!active) return;
      session?.runner.abort();
      for (const { reject: fail } of pendingBn.values()) fail(new Error(`step ${active.step} abandoned: ${reason}`));
      pendingBn.clear();
      // A SyncBN exchange the abandoned attempt still starts fails at once instead of waiting
      // for a reply that will not come; the next attempt sets `active` when it starts.
      active = null;
    };
    const exchange = (mine: BatchNormExchange): Promise<BatchNormExchange> => new Promise((res, rej) => {
      const current = active;
      if (!current) { rej(new Error('no step in progress')); return; }
      pendingBn.set(`${current.attempt}:${mine.layer}:${mine.phase}`, { resolve: res, reject: rej });
      const values = new Float64Array(2 * mine.a.length);
      values.set(mine.a);
      values.set(mine.b, mine.a.length);
      send({ type: 'bn', step: current.step, attempt: current.attempt, layer: mine.layer, phase: mine.phase, count: mine.count, values });
    });

    // A part of the gradient of the step in progress, sent while backward goes on.
    const sendPart: SendPartFn = (offset, gradient) => {
      const current = active;
      const dtype = session?.config.gradDtype ?? 'f32';
      if (!current || ws.readyState !== WebSocket.OPEN) return false;
      return sentUnlessNonFinite(() => sendPooled({
        type: 'gradient-part', step: current.step, attempt: current.attempt, offset, gradient, ...(dtype === 'f32' ? {} : { dtype }),
      }));
    };

    /** Computes an assigned step once its parameters are in (`decoded`: when); runs after any earlier step has settled. */
    const startStep = (s: RunSession, message: StepMessage, params: ParamsMessage, decoded: { start: number; end: number }): void => {
      queue.chain = queue.chain.then(async () => {
        if (settled || latest !== message) return; // superseded, or its connection is gone
        const attempt = message.attempt ?? 0;
        active = { step: message.step, attempt };
        const { timeline } = s.runner;
        // The coordinator says which steps the run's timeline records.
        timeline.drain();
        timeline.enabled = message.trace ?? false;
        timeline.span('decode params', decoded.start, 0, { step: message.step }, decoded.end);
        const t0 = performance.now();
        s.runner.publish(params.params, params.buffers);
        const publishMs = performance.now() - t0;
        timeline.span('publish params', t0);
        const out = await s.runner.run(message);
        active = null;
        const dtype = s.config.gradDtype ?? 'f32';
        const gradient: GradientMessage = {
          type: 'gradient', step: message.step, attempt, samples: out.samples, lossSum: out.loss * message.globalBatch,
          ...(dtype === 'f32' ? {} : { dtype }), ...(out.parts > 0 ? { parts: out.parts } : {}),
          timings: { computeMs: out.computeMs, bnWaitMs: out.bnWaitMs, serializeMs: publishMs, ...cpuField(cpuSinceLastGradient()) },
          gradient: out.grads, buffers: out.buffers,
        };
        // The encoder checks every value anyway: a non-finite one is reported, not sent.
        const sending = performance.now();
        const sent = Number.isFinite(out.loss) && sentUnlessNonFinite(() => sendPooled(gradient));
        timeline.span('send gradient', sending, 0, { floats: out.grads.length });
        timeline.span(`step ${message.step}`, t0, 0, { attempt, rows: out.samples });
        if (timeline.enabled) sendTrace(message.step, timeline.drain());
        if (sent) return;
        out.grads.fill(0);
        out.buffers.fill(0);
        sendPooled({ ...gradient, lossSum: 0, nonFinite: true });
      }).catch((error: Error) => {
        active = null;
        // Statistics that turned NaN or infinite cannot go into a SyncBN message: report the
        // step as diverged, or the coordinator and the other workers would wait for them.
        if (isNonFinite(error) && latest === message && !settled) {
          log(`worker: step ${message.step} diverged (${error.message}); reporting it as non-finite`);
          sentUnlessNonFinite(() => sendPooled({
            type: 'gradient', step: message.step, attempt: message.attempt ?? 0, samples: message.end - message.start, lossSum: 0, nonFinite: true,
            ...(s.runner.partsSent > 0 ? { parts: s.runner.partsSent } : {}), timings: { computeMs: 0, bnWaitMs: 0, serializeMs: 0, ...cpuField(cpuSinceLastGradient()) },
            gradient: new Float32Array(s.runner.unsentFrom), buffers: new Float32Array(s.model.buffers.length),
          }));
          return;
        }
        log(`worker: step ${message.step} attempt ${message.attempt ?? 0} did not finish: ${error.message}`);
      });
    };

    ws.on('open', () => {
      send({
        type: 'hello', version: PROTOCOL_VERSION, token: options.token, threads: options.threads, pid: process.pid, host: hostname(),
        matmul: matmulKernelLabel(),
      });
      heartbeat = setInterval(() => {
        send({ type: 'heartbeat', time: Date.now() });
        if (Date.now() - lastHeard > COORDINATOR_SILENCE_MS) {
          log(`worker: nothing from the coordinator for ${COORDINATOR_SILENCE_MS / 1000} s; reconnecting`);
          ws.terminate();
        }
      }, HEARTBEAT_MS);
    });
    ws.on('message', (data) => {
      const received = performance.now();
      lastHeard = Date.now();
      let message: CoordinatorMessage;
      try {
        // ws hands each listener a Buffer of its own: aligned payloads are used in place.
        const decoded = decodeMessage(data as Buffer, { owned: true }) as CoordinatorMessage;
        message = session ? validateAgainst(decoded, { paramCount: session.model.params.length, bufferCount: session.model.buffers.length }) : decoded;
      } catch (error) {
        log(`worker: malformed message from the coordinator: ${(error as Error).message}`);
        ws.close(1002, 'malformed message');
        return;
      }
      switch (message.type) {
        case 'welcome': {
          welcomed = true;
          if (!session || session.runId !== message.runId) {
            const old = session;
            void old?.close();
            session = new RunSession(message.runId, message.workerId, message.spec, message.config, options.threads, { exchange, sendPart });
            adopt(session);
          }
          session.link = { exchange, sendPart };
          log(`worker ${message.workerId}: joined run ${message.runId} at step ${message.step} with ${options.threads} thread(s)`);
          return;
        }
        case 'step':
          if (!session) { ws.close(1002, 'step before welcome'); return; }
          // A newer assignment supersedes an unfinished one (the coordinator redid the step),
          // and any still queued: only the latest assignment is worth computing. It starts
          // when its parameters, which follow, are in.
          pendingStep = message;
          latest = message;
          abortActive(`superseded by step ${message.step} attempt ${message.attempt ?? 0}`);
          return;
        case 'params': {
          const s = session;
          const step = pendingStep;
          pendingStep = null;
          if (!s || step?.step !== message.step) {
            log(`worker: parameters for step ${message.step} arrived without their step message`);
            ws.close(1002, 'params without step');
            return;
          }
          startStep(s, step, message, { start: received, end: performance.now() });
          return;
        }
        case 'bn': {
          const key = `${message.attempt ?? 0}:${message.layer}:${message.phase}`;
          const waiter = pendingBn.get(key);
          if (!waiter) return; // a reply to an abandoned attempt
          pendingBn.delete(key);
          const c = message.values.length / 2;
          waiter.resolve({ layer: message.layer, phase: message.phase, count: message.count, a: message.values.subarray(0, c), b: message.values.subarray(c) });
          return;
        }
        case 'bye':
          log(`worker: the coordinator says bye (${message.reason})`);
          finish('bye');
          ws.close(1000, 'bye');
          return;
        case 'error':
          if (!welcomed) { finish(new RefusedError(`refused by the coordinator: ${message.message}`)); ws.close(); return; }
          log(`worker: coordinator error: ${message.message}`);
          return;
        default:
          return;
      }
    });
    ws.on('close', () => finish(welcomed ? 'connected-then-lost' : 'failed'));
    ws.on('error', (error) => { if (!welcomed) log(`worker: cannot connect to ${options.url}: ${error.message}`); });
  });
}

/** The encoder refused a NaN or infinite value. */
function isNonFinite(error: unknown): boolean {
  return error instanceof ProtocolError && error.code === 'non-finite';
}

/** Runs `send`; false when the encoder refused a NaN or infinite value (the message was not sent). */
function sentUnlessNonFinite(send: () => void): boolean {
  try {
    send();
    return true;
  } catch (error) {
    if (isNonFinite(error)) return false;
    throw error;
  }
}
