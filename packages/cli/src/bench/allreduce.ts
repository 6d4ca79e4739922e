import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { GradientSum, type RunConfig } from '@flotilla/coordinator';
import { decodeMessage, encodeMessage, FramePool, frameLimits, wireWidth } from '@flotilla/protocol';
import { clientSocketOptions } from '@flotilla/worker';
import WebSocket, { WebSocketServer } from 'ws';
import { flotillaArgv } from '../run-flotilla.js';
import { median } from './stats.js';

type GradDtype = RunConfig['gradDtype'];

export interface AllReduceRun {
  floats: number;
  workers: number;
  /** Timed rounds. */
  rounds: number;
  /** Untimed rounds before them. */
  warmup_rounds: number;
  /** Median time of one all-reduce: parameters out to every worker, gradients back, summed. */
  ms: number;
  /** Payload bytes moved per round (float32 parameters out, gradients back, all workers) per second. */
  mb_per_sec: number;
  /** The same bytes at the raw loopback TCP bandwidth measured in this run. */
  socket_bound_ms: number;
  /** ms / socket_bound_ms. */
  ratio_to_bound: number;
  /**
   * Median time of the same bytes through ws alone (each client echoes the payload back, no
   * codec, no checks, no sum): what the transport costs before any of Flotilla's own work.
   */
  ws_echo_ms: number;
}

export interface AllReduceBench {
  /** The gradients' precision on the way back (the parameters always go out as float32). */
  grad_dtype: GradDtype;
  /** The bound's bandwidth: the best one-way loopback TCP transfer of the run, bytes/s. */
  loopback_bytes_per_sec: number;
  /** Every transfer measured, bytes/s: half before the all-reduces, half after. */
  loopback_transfers: number[];
  runs: AllReduceRun[];
}

export interface AllReduceOptions {
  /** Timed rounds per (floats, workers). */
  rounds: number;
  /** Untimed rounds first: at least this many, and at least `warmupMs` of them. */
  warmupRounds: number;
  warmupMs: number;
  /** Loopback transfers before the all-reduces, and as many after. */
  transfers?: number;
  transferBytes?: number;
  /** The gradients' precision, as --grad-dtype sets it for training [default: f32]. */
  gradDtype?: GradDtype;
  log: (line: string) => void;
}

/** Raw one-way loopback TCP bandwidth in bytes/s: a child process sends `bytes`, we read them all. */
async function loopbackBandwidth(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      let got = 0;
      const started = performance.now();
      socket.on('data', (chunk) => {
        got += chunk.length;
        if (got >= bytes) {
          const seconds = (performance.now() - started) / 1000;
          socket.destroy();
          server.close();
          resolve(bytes / seconds);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const child = spawn(process.execPath, ['-e', `
        const s = require('net').connect(${port}, '127.0.0.1', () => {
          const chunk = Buffer.alloc(1 << 20, 7); let left = ${bytes};
          const pump = () => { while (left > 0) { left -= chunk.length; if (!s.write(chunk)) return s.once('drain', pump); } s.end(); };
          pump();
        });
        s.on('error', () => process.exit(0));`], { stdio: 'ignore' });
      child.on('error', reject);
    });
  });
}

/**
 * The hidden client half: answers every `params` frame with a `gradient` frame of as many
 * values (in `dtype` precision), decoding and encoding as a worker does. After the text
 * message `echo` it sends back the start of every binary frame untouched, as many bytes as
 * such a gradient's values (ws alone, no codec), until the text message `frames`.
 */
export async function allReduceClient(url: string, dtype: GradDtype = 'f32'): Promise<void> {
  const ws = new WebSocket(url, clientSocketOptions);
  const frames = new FramePool(2);
  let echo = false;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) { echo = String(data) === 'echo'; return; }
      if (echo) { ws.send((data as Buffer).subarray(0, ((data as Buffer).length / 4) * wireWidth(dtype))); return; }
      const m = decodeMessage(data as Buffer, { owned: true });
      if (m.type === 'bye') { ws.close(); return; }
      if (m.type !== 'params') return;
      const frame = encodeMessage({
        type: 'gradient', step: m.step, samples: 1, lossSum: 0, timings: { computeMs: 0, bnWaitMs: 0, serializeMs: 0 },
        gradient: m.params, buffers: m.buffers, ...(dtype === 'f32' ? {} : { dtype }),
      }, frames.alloc);
      ws.send(frame, frames.releaseAfter(frame));
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
}

/** Every client echoes the parameters (0.5 each), so every sum is workers × 0.5 exactly. */
export function checkSum(sum: Float32Array, want: number): void {
  for (let i = 0; i < sum.length; i++) {
    if (sum[i] !== want) throw new Error(`all-reduce summed element ${i} to ${sum[i]}, expected ${want}`);
  }
}

/**
 * Runs `round` (which returns its own time, leaving checks outside it) until `rounds` have
 * been timed, after the warm-up ones: at least `warmupRounds` of them and `warmupMs`. V8
 * compiles the hot paths, JavaScript and WebAssembly alike, over the first dozens of rounds
 * (1e6 × 2 takes 20-25 ms at first, 13-14 once warm), and a training run is nearly all warm
 * steps.
 */
async function timed(options: AllReduceOptions, round: (index: number) => Promise<number>): Promise<{ times: number[]; warmup: number }> {
  const times: number[] = [];
  const started = performance.now();
  let warmup = 0;
  for (let index = 0; times.length < options.rounds; index++) {
    const ms = await round(index);
    if (warmup < options.warmupRounds || performance.now() - started < options.warmupMs) warmup++;
    else times.push(ms);
  }
  return { times, warmup };
}

/** The next binary frame from each socket; a client that dies fails the round instead of hanging it. */
function repliesFrom(sockets: WebSocket[], round: number): Promise<Buffer>[] {
  return sockets.map((ws, k) => new Promise<Buffer>((resolve, reject) => {
    const lost = (): void => reject(new Error(`all-reduce client ${k} disconnected in round ${round}`));
    ws.once('close', lost);
    ws.once('message', (data) => { ws.off('close', lost); resolve(data as Buffer); });
  }));
}

/** All-reduces of `floats` values among the connected clients, summed by GradientSum; every sum is checked. */
function timeAllReduces(sockets: WebSocket[], floats: number, gradDtype: GradDtype, options: AllReduceOptions): Promise<{ times: number[]; warmup: number }> {
  const params = new Float32Array(floats).fill(0.5);
  const pool = new FramePool(2);
  const target = new Float32Array(floats);
  const ids = sockets.map((_, k) => k);
  return timed(options, async (round) => {
    const t0 = performance.now();
    const sum = new GradientSum(ids, target);
    const summed = repliesFrom(sockets, round).map((reply, k) => reply.then((data) => {
      const m = decodeMessage(data, { owned: true });
      if (m.type !== 'gradient') throw new Error(`all-reduce client ${k} answered with ${m.type}`);
      if ((m.dtype ?? 'f32') !== gradDtype) throw new Error(`all-reduce client ${k} sent ${m.dtype ?? 'f32'} gradients, not ${gradDtype}`);
      sum.add({ workerId: k, samples: m.samples, loss: m.lossSum, grads: m.gradient, buffers: m.buffers, computeMs: 0, bnWaitMs: 0 });
    }));
    const frame = encodeMessage({ type: 'params', step: round, params, buffers: new Float32Array(0) }, pool.alloc);
    const written = pool.releaseAfter(frame, sockets.length);
    for (const ws of sockets) ws.send(frame, written);
    await Promise.all(summed);
    sum.reduceInto(new Float32Array(0));
    const ms = performance.now() - t0;
    checkSum(target, sockets.length * 0.5);
    return ms;
  });
}

/** The same bytes through ws alone: one payload out to every client, its start (a gradient's bytes) echoed back untouched. */
async function timeEchoes(sockets: WebSocket[], floats: number, gradDtype: GradDtype, options: AllReduceOptions): Promise<{ times: number[]; warmup: number }> {
  const payload = Buffer.alloc(4 * floats, 0x5a);
  const back = payload.subarray(0, floats * wireWidth(gradDtype));
  for (const ws of sockets) ws.send('echo');
  try {
    return await timed(options, async (round) => {
      const t0 = performance.now();
      const replies = repliesFrom(sockets, round);
      for (const ws of sockets) ws.send(payload);
      const echoed = await Promise.all(replies);
      const ms = performance.now() - t0;
      for (const [k, data] of echoed.entries()) {
        if (!back.equals(data)) throw new Error(`ws echo from client ${k} differs from what was sent in round ${round}`);
      }
      return ms;
    });
  } finally {
    for (const ws of sockets) ws.send('frames');
  }
}

/** The best of `count` one-way loopback transfers of `bytes`, each logged; returns them all. */
async function loopbackTransfers(count: number, bytes: number, when: string, log: (line: string) => void): Promise<number[]> {
  const transfers = [];
  for (let i = 0; i < count; i++) transfers.push(await loopbackBandwidth(bytes));
  log(`loopback TCP ${when}, one way: ${transfers.map((b) => (b / 1e6).toFixed(0)).join(', ')} MB/s`);
  return transfers;
}

/**
 * All-reduce as a Flotilla step does it, without the compute: the coordinator sends F
 * floats to each of N worker processes, each sends F floats back, the coordinator sums them
 * with its own GradientSum (the first member's gradient copied, the others added, in
 * worker-id order).
 *
 * The bound is the best single loopback transfer of the run, measured before and after the
 * all-reduces: single transfers here range over 2× (1.1 to 2.3 GB/s within minutes), so a
 * bound from one transfer, or from transfers at one moment, flatters the ratio.
 */
export async function benchAllReduce(floatsList: number[], workersList: number[], options: AllReduceOptions): Promise<AllReduceBench> {
  const { log } = options;
  const gradDtype = options.gradDtype ?? 'f32';
  /** Payload bytes of one round per worker and value: float32 parameters out, the gradient back. */
  const roundBytes = 4 + wireWidth(gradDtype);
  const count = options.transfers ?? 3, bytes = options.transferBytes ?? 256 << 20;
  const before = await loopbackTransfers(count, bytes, 'before', log);
  const measured: Omit<AllReduceRun, 'socket_bound_ms' | 'ratio_to_bound'>[] = [];
  for (const floats of floatsList) {
    for (const workers of workersList) {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: frameLimits({ paramCount: floats, bufferCount: 0 }).maxFrameBytes });
      await new Promise((r) => server.once('listening', r));
      const address = server.address();
      const url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const sockets: WebSocket[] = [];
      const joined = new Promise<void>((resolve) => server.on('connection', (ws) => { sockets.push(ws); if (sockets.length === workers) resolve(); }));
      const children: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, flotillaArgv(['bench', 'allreduce-client', '--connect', url, '--grad-dtype', gradDtype]), { stdio: 'ignore' }));
      await joined;
      let reduces: { times: number[]; warmup: number }, echoes: { times: number[]; warmup: number };
      try {
        echoes = await timeEchoes(sockets, floats, gradDtype, options);
        reduces = await timeAllReduces(sockets, floats, gradDtype, options);
      } finally {
        // Also after a failed round, so no client process is left behind.
        for (const ws of sockets) ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
        await Promise.all(children.map((c) => c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r))));
        await new Promise((r) => server.close(r));
      }
      const ms = median(reduces.times), echoMs = median(echoes.times);
      const mbPerSec = (workers * roundBytes * floats) / ms / 1000;
      measured.push({ floats, workers, rounds: reduces.times.length, warmup_rounds: reduces.warmup, ms, mb_per_sec: mbPerSec, ws_echo_ms: echoMs });
      log(`${floats.toExponential(0)} floats × ${workers} workers${gradDtype === 'f32' ? '' : ` (${gradDtype} gradients)`}: ${ms.toFixed(2)} ms per all-reduce, ${mbPerSec.toFixed(0)} MB/s ` +
        `(median of ${reduces.times.length} rounds after ${reduces.warmup} warm-up rounds); ws echo of the same bytes ${echoMs.toFixed(2)} ms`);
    }
  }
  const after = await loopbackTransfers(count, bytes, 'after', log);
  const bandwidth = Math.max(...before, ...after);
  log(`socket bound: every byte out and back through one loopback link at the best transfer, ${(bandwidth / 1e6).toFixed(0)} MB/s`);
  const runs = measured.map((m) => {
    const boundMs = (1000 * m.workers * roundBytes * m.floats) / bandwidth;
    log(`${m.floats.toExponential(0)} floats × ${m.workers} workers: ${m.ms.toFixed(2)} ms against a bound of ${boundMs.toFixed(2)} ms (${(m.ms / boundMs).toFixed(2)}×)`);
    return { ...m, socket_bound_ms: boundMs, ratio_to_bound: m.ms / boundMs };
  });
  return { grad_dtype: gradDtype, loopback_bytes_per_sec: bandwidth, loopback_transfers: [...before, ...after], runs };
}
