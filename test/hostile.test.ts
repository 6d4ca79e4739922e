import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from '@flotilla/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { finalParams, flotillaAsync, referenceParams, lastJson, relativeL2, stepsLogged, waitFor } from './cli.js';

const base = mkdtempSync(join(tmpdir(), 'flotilla-hostile-'));
const TOKEN = 'hostile-test-token';
const env = { FLOTILLA_TOKEN: TOKEN };
const RUN = ['--steps', '80', '--batch', '100', '--train-limit', '2000', '--test-limit', '300', '--seed', '9'];

let reference: Float32Array;
beforeAll(() => { reference = referenceParams(RUN, join(base, 'reference')); });

/** Opens a raw connection; resolves with how it ended (close code and any error message received). */
function connect(url: string, act: (ws: WebSocket) => void, onMessage?: (ws: WebSocket, m: Message) => void, limitMs = 20_000) {
  return new Promise<{ code: number; errors: string[] }>((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const errors: string[] = [];
    const timer = setTimeout(() => ws.terminate(), limitMs);
    ws.on('open', () => act(ws));
    ws.on('message', (data) => {
      try {
        const m = decodeMessage(data as Buffer);
        if (m.type === 'error') errors.push(m.message);
        onMessage?.(ws, m);
      } catch { /* not our concern here */ }
    });
    ws.on('close', (code) => { clearTimeout(timer); resolve({ code, errors }); });
    ws.on('error', () => { /* close follows */ });
  });
}

const hello = (token = TOKEN): Uint8Array => encodeMessage({ type: 'hello', version: PROTOCOL_VERSION, token, threads: 1 });

type StepMessage = Extract<Message, { type: 'step' }>;
type ParamsMessage = Extract<Message, { type: 'params' }>;

/** Joins as a worker with the right token, then answers its first step (a step message, then its params) with `gradient(step, params)` bytes. */
function treacherousWorker(url: string, gradient: (step: StepMessage, params: ParamsMessage) => Uint8Array) {
  let step: StepMessage | null = null;
  return connect(url, (ws) => ws.send(hello()), (ws, m) => {
    if (m.type === 'step') step = m;
    if (m.type === 'params' && step?.step === m.step) ws.send(gradient(step, m));
  });
}

function gradientFor(step: StepMessage, params: ParamsMessage, values: Float32Array): Uint8Array {
  return encodeMessage({
    type: 'gradient', step: step.step, attempt: step.attempt ?? 0, samples: step.end - step.start, lossSum: 1,
    timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0 }, gradient: values, buffers: params.buffers,
  });
}

describe('hostile input against a live coordinator', () => {
  it('wrong token, no hello, garbage, text, an oversized frame, a wrong-length gradient, a NaN gradient and a misplaced gradient part are all rejected; the run finishes correctly', async () => {
    const out = join(base, 'hostile');
    const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', '2', ...RUN, '--out', out, '--json'], { env, timeoutMs: 90_000 });
    const port = await waitFor('the coordinator to listen', () => /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr)?.[1]);
    const url = `ws://127.0.0.1:${port}`;
    const workers = [0, 1].map(() => flotillaAsync(['worker', '--connect', url], { env }));
    await waitFor('5 steps', () => stepsLogged(out) >= 5);

    const [wrongToken, silent, garbage, text, oversized, shortGradient, nanGradient, misplacedPart] = await Promise.all([
      connect(url, (ws) => ws.send(hello('not-the-token'))),
      connect(url, () => { /* never says hello */ }),
      connect(url, (ws) => ws.send(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256))),
      connect(url, (ws) => ws.send('{"type":"hello"}')),
      connect(url, (ws) => ws.send(new Uint8Array(8 * 1024 * 1024))),
      treacherousWorker(url, (step, params) => gradientFor(step, params, new Float32Array(10))),
      treacherousWorker(url, (step, params) => {
        const values = new Float32Array(params.params.length);
        const frame = gradientFor(step, params, values);
        // Forge a NaN into the payload behind the encoder's back (it refuses to write one).
        const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        view.setFloat32(frame.byteLength - 4 * (params.buffers.length + 1), NaN, true);
        return frame;
      }),
      // A well-formed part that does not start the tiling at the end of the gradient.
      treacherousWorker(url, (step) => encodeMessage({ type: 'gradient-part', step: step.step, attempt: step.attempt ?? 0, offset: 0, gradient: new Float32Array(10) })),
    ]);
    expect(wrongToken.errors.join()).toMatch(/authentication failed: wrong token/);
    expect(silent.errors.join()).toMatch(/no hello within 10 s/);
    expect(garbage.code).toBe(1008);
    expect(text.errors.join()).toMatch(/text frames are not part of the protocol/);
    expect(oversized.code).toBe(1009); // ws: message too big, refused before it is buffered whole
    expect(shortGradient.errors.join()).toMatch(/gradient: carries 10 gradient values, this model has paramCount/);
    expect(nanGradient.errors.join()).toMatch(/NaN/);
    expect(misplacedPart.errors.join()).toMatch(/sent gradient part \[0, 10\); the next part must end at \d+/);

    const result = await coordinator.done;
    if (result.status !== 0) throw new Error(`coordinator failed:\n${result.stderr.split('\r').join('\n').slice(-3000)}`);
    const summary = lastJson(result.stdout);
    expect(summary).toMatchObject({ steps: 80, workers: 2 });
    // Wrong token, garbage and text at least (the silent one may outlive the run; ws closes the oversized one itself).
    expect(summary.refused_connections).toBeGreaterThanOrEqual(3);
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
    for (const w of workers) expect((await w.done).status).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('forged and flooding trace messages do not reach the timeline, and the run is unchanged', async () => {
    const out = join(base, 'trace-flood');
    const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', '2', ...RUN, '--out', out, '--json', '--timeline', '5-99'], { env, timeoutMs: 90_000 });
    const port = await waitFor('the coordinator to listen', () => /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr)?.[1]);
    const url = `ws://127.0.0.1:${port}`;
    const workers = [0, 1].map(() => flotillaAsync(['worker', '--connect', url], { env }));
    await waitFor('10 steps', () => stepsLogged(out) >= 10);
    const span = (name: string) => ({ name, tid: 0, ts: 1e15, dur: 1 });
    // A worker with the right token, on its welcome: spans of a step inside the window but
    // never assigned (the run has 80 steps), of a step outside the window, ten messages for
    // one step in it, and twenty for two steps taken in turn (8, 9, 8, 9, ...: a worker's
    // steps only go forward); then it leaves.
    await connect(url, (ws) => ws.send(hello()), (ws, m) => {
      if (m.type !== 'welcome') return;
      ws.send(encodeMessage({ type: 'trace', step: 95, events: [span('future')] }));
      ws.send(encodeMessage({ type: 'trace', step: 2, events: [span('outside')] }));
      for (let i = 0; i < 10; i++) ws.send(encodeMessage({ type: 'trace', step: 7, events: [span('flood')] }));
      for (let i = 0; i < 20; i++) ws.send(encodeMessage({ type: 'trace', step: 8 + (i % 2), events: [span('alternating')] }));
      ws.send(encodeMessage({ type: 'bye', reason: 'done' }));
    });
    const result = await coordinator.done;
    if (result.status !== 0) throw new Error(`coordinator failed:\n${result.stderr.split('\r').join('\n').slice(-3000)}`);
    const names = (JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as Array<{ name: string }>).map((e) => e.name);
    expect(names.filter((n) => n === 'future' || n === 'outside')).toEqual([]);
    expect(names.filter((n) => n === 'flood')).toHaveLength(4); // a step's worth of messages per worker
    // Step 8's first message, then step 9's four: the returns to step 8 are replays, dropped.
    expect(names.filter((n) => n === 'alternating')).toHaveLength(1 + 4);
    // The real workers' spans of the window (steps 5 to 79) are there, and nothing outside it.
    expect(names.filter((n) => n === 'forward + backward')).toHaveLength(2 * 75);
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
    for (const w of workers) expect((await w.done).status).toBe(0);
  });

  it('a bounded fuzz of random and mutated frames neither crashes the coordinator nor changes the result', async () => {
    const out = join(base, 'fuzz');
    const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', '2', ...RUN, '--out', out, '--json'], { env });
    const port = await waitFor('the coordinator to listen', () => /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr)?.[1]);
    const url = `ws://127.0.0.1:${port}`;
    const workers = [0, 1].map(() => flotillaAsync(['worker', '--connect', url], { env }));
    await waitFor('3 steps', () => stepsLogged(out) >= 3);

    // Seeded mutations of valid frames (a hello with the wrong token, heartbeats, bn rounds):
    // flipped bytes, truncations, extensions. 60 connections × 50 frames, at most 20 s.
    let seed = 12345;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const templates = [
      hello('wrong'),
      encodeMessage({ type: 'heartbeat', time: 1 }),
      encodeMessage({ type: 'bn', step: 3, layer: 1, phase: 'forward', count: 5, values: new Float64Array(8) }),
      encodeMessage({ type: 'bye', reason: 'x' }),
    ];
    const mutate = (frame: Uint8Array): Uint8Array => {
      const copy = Uint8Array.from(frame);
      const kind = random();
      if (kind < 0.4) for (let k = 0; k < 1 + random() * 4; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      else if (kind < 0.7) return copy.subarray(0, Math.floor(random() * copy.length));
      else if (kind < 0.85) return Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      else return new Uint8Array([...copy, ...Uint8Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256))]);
      return copy;
    };
    const deadline = Date.now() + 20_000;
    let sent = 0;
    for (let c = 0; c < 60 && Date.now() < deadline; c++) {
      await connect(url, (ws) => {
        for (let k = 0; k < 50; k++) {
          ws.send(mutate(templates[Math.floor(random() * templates.length)]));
          sent++;
        }
      }, undefined, 2_000);
    }
    expect(sent).toBeGreaterThan(1000);

    const result = await coordinator.done;
    expect(result.status).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ steps: 80, workers: 2 });
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
    for (const w of workers) expect((await w.done).status).toBe(0);
  });
});
