import { decodeCheckpoint, encodeCheckpoint, loadCheckpointInto, type Checkpoint, type FlatTensors } from '../io/checkpoint.js';
import { buildModel, type Model } from './model.js';

function float32(model: Model, what: 'params' | 'buffers'): Float32Array {
  const data = model[what];
  if (!(data instanceof Float32Array)) throw new Error(`Checkpoints hold float32 models; this model is ${model.dtype}`);
  return data;
}

/** The model's parameters and buffers as checkpoint groups (names as PyTorch's state dict). */
export function modelTensors(model: Model): { params: FlatTensors; buffers: FlatTensors } {
  return {
    params: { layout: model.paramLayout, data: float32(model, 'params') },
    buffers: { layout: model.bufferLayout, data: float32(model, 'buffers') },
  };
}

/**
 * A safetensors checkpoint of `model`: its spec and `state` in the metadata, its tensors
 * under PyTorch names, and `extra` groups (e.g. EMA weights under `ema.`) beside them.
 */
export function encodeModelCheckpoint(model: Model, state: unknown = null, extra: FlatTensors[] = []): Uint8Array {
  return encodeCheckpoint({ spec: model.spec, state, ...modelTensors(model), extra });
}

/** Groups a checkpoint may carry beside the model's own tensors: EMA weights, optimizer and early-stopping state. */
export const CHECKPOINT_EXTRA_PREFIXES = ['ema.', 'optimizer.', 'early_stopping.'];

/**
 * Rebuilds the model a checkpoint describes and loads its weights; tensors under
 * `allowExtraPrefixes` (e.g. `ema.`) may be present without a target. Errors name the
 * file's problem (truncated, bad header, checksum, shape that disagrees with the spec).
 */
export function decodeModelCheckpoint(bytes: Uint8Array, allowExtraPrefixes: string[] = CHECKPOINT_EXTRA_PREFIXES): { model: Model; checkpoint: Checkpoint } {
  const checkpoint = decodeCheckpoint(bytes);
  const model = buildModel(checkpoint.spec);
  loadCheckpointInto(checkpoint, modelTensors(model), { allowExtraPrefixes });
  return { model, checkpoint };
}

/** The EMA weights stored beside a checkpoint's own (under `ema.`), or null when it has none. */
export function readEmaParameters(model: Model, checkpoint: Checkpoint): Float32Array | null {
  if (model.paramLayout.length === 0 || !checkpoint.tensors.has(`ema.${model.paramLayout[0].name}`)) return null;
  const ema = new Float32Array(model.params.length);
  const scratch = { params: new Float32Array(model.params.length), buffers: new Float32Array(model.buffers.length) };
  loadCheckpointInto(checkpoint, {
    params: { layout: model.paramLayout, data: scratch.params },
    buffers: { layout: model.bufferLayout, data: scratch.buffers },
    extra: [{ prefix: 'ema.', layout: model.paramLayout, data: ema }],
  }, { allowExtraPrefixes: CHECKPOINT_EXTRA_PREFIXES });
  return ema;
}
