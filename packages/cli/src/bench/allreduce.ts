import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GradientSum } from '@flotilla/coordinator';
import { decodeMessage, encodeMessage, FramePool, frameLimits } from '@flotilla/protocol';
import { clientSocketOptions } from '@flotilla/worker';
import WebSocket, { WebSocketServer } from 'ws';
import { NODE_FLAGS } from '../node-flags.js';

const CLI = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

export interface AllReduceRun {
  floats: number;
  workers: number;
  rounds: number;
  /** Median time of one all-reduce: parameters out to every worker, gradients back, summed. */
  ms: number;
  /** Payload bytes moved per round (out and back, all workers) per second. */
  mb_per_sec: number;
  /** The same bytes at the raw loopback TCP bandwidth measured in this run. */
  socket_bound_ms: number;
  /** ms / socket_bound_ms. */
  ratio_to_bound: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
 * The hidden client half: answers every `params` frame with a `gradient` frame of the same
 * size (in `dtype` precision), decoding and encoding as a worker does.
 */
export async function allReduceClient(url: string, dtype: 'f32' | 'f16' | 'bf16' = 'f32'): Promise<void> {
  const ws = new WebSocket(url, clientSocketOptions);
  const frames = new FramePool(2);
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
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
function checkSum(sum: Float32Array, want: number): void {
  for (let i = 0; i < sum.length; i++) {
    if (sum[i] !== want) throw new Error(`all-reduce summed element ${i} to ${sum[i]}, expected ${want}`);
  }
}

/** Times `rounds` all-reduces of `floats` values among the connected clients; every sum is checked. */
async function timeRounds(sockets: WebSocket[], floats: number, rounds: number): Promise<number[]> {
  const params = new Float32Array(floats).fill(0.5);
  const pool = new FramePool(2);
  const target = new Float32Array(floats);
  const ids = sockets.map((_, k) => k);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const sum = new GradientSum(ids, target);
    const replies = sockets.map((ws, k) => new Promise<void>((resolve, reject) => {
      // A client that dies fails the round instead of hanging it.
      const lost = (): void => reject(new Error(`all-reduce client ${k} disconnected in round ${round}`));
      ws.once('close', lost);
      ws.once('message', (data) => {
        ws.off('close', lost);
        const m = decodeMessage(data as Buffer, { owned: true });
        if (m.type !== 'gradient') { reject(new Error(`all-reduce client ${k} answered with ${m.type}`)); return; }
        sum.add({ workerId: k, samples: m.samples, loss: m.lossSum, grads: m.gradient, buffers: m.buffers, computeMs: 0, bnWaitMs: 0 });
        resolve();
      });
    }));
    const frame = encodeMessage({ type: 'params', step: round, params, buffers: new Float32Array(0) }, pool.alloc);
    const written = pool.releaseAfter(frame, sockets.length);
    for (const ws of sockets) ws.send(frame, written);
    await Promise.all(replies);
    sum.reduceInto(new Float32Array(0));
    times.push(performance.now() - t0);
    checkSum(target, sockets.length * 0.5); // outside the timed interval
  }
  return times;
}

/**
 * All-reduce as a Flotilla step does it, without the compute: the coordinator sends F
 * floats to each of N worker processes, each sends F floats back, the coordinator sums them
 * with its own GradientSum (the first member's gradient copied, the others added, in
 * worker-id order).
 */
export async function benchAllReduce(floatsList: number[], workersList: number[], options: { rounds: number; log: (line: string) => void }): Promise<AllReduceRun[]> {
  // The bound is the best of three transfers: single ones vary by a third here.
  const transfers = [];
  for (let i = 0; i < 3; i++) transfers.push(await loopbackBandwidth(256 << 20));
  const bandwidth = Math.max(...transfers);
  options.log(`loopback TCP, one way: ${(bandwidth / 1e6).toFixed(0)} MB/s (best of ${transfers.map((b) => (b / 1e6).toFixed(0)).join(', ')})`);
  const runs: AllReduceRun[] = [];
  for (const floats of floatsList) {
    for (const workers of workersList) {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: frameLimits({ paramCount: floats, bufferCount: 0 }).maxFrameBytes });
      await new Promise((r) => server.once('listening', r));
      const address = server.address();
      const url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const sockets: WebSocket[] = [];
      const joined = new Promise<void>((resolve) => server.on('connection', (ws) => { sockets.push(ws); if (sockets.length === workers) resolve(); }));
      const children: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [...NODE_FLAGS, CLI, 'bench', 'allreduce-client', '--connect', url], { stdio: 'ignore' }));
      await joined;
      let times: number[];
      try {
        times = await timeRounds(sockets, floats, options.rounds);
      } finally {
        // Also after a failed round, so no client process is left behind.
        for (const ws of sockets) ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
        await Promise.all(children.map((c) => c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r))));
        await new Promise((r) => server.close(r));
      }
      const ms = median(times.slice(1));
      const bytes = 2 * workers * 4 * floats;
      const boundMs = (1000 * bytes) / bandwidth;
      const run = { floats, workers, rounds: options.rounds, ms, mb_per_sec: bytes / ms / 1000, socket_bound_ms: boundMs, ratio_to_bound: ms / boundMs };
      runs.push(run);
      options.log(`${floats.toExponential(0)} floats × ${workers} workers: ${ms.toFixed(2)} ms per all-reduce, ${run.mb_per_sec.toFixed(0)} MB/s; ` +
        `socket bound ${boundMs.toFixed(2)} ms (${run.ratio_to_bound.toFixed(2)}×)`);
    }
  }
  return runs;
}
