export { crc32, crc32Hex } from './crc32.js';
export {
  SAFETENSORS_DTYPE_BYTES,
  bytesToFloat32,
  float32ToBytesLE,
  halfToFloat,
  isSupportedDtype,
} from './safetensors-dtypes.js';
export {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  readSafetensorsTensors,
  type NamedTensor,
  type SafetensorsEntry,
  type SafetensorsFile,
  type SafetensorsHeader,
  type SafetensorsTensor,
} from './safetensors.js';
export {
  CHECKPOINT_FORMAT_VERSION,
  CheckpointError,
  CheckpointKeys,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpointInto,
  type Checkpoint,
  type CheckpointContents,
  type FlatTensors,
  type LoadOptions,
  type LoadTargets,
  type TensorLayoutEntry,
} from './checkpoint.js';
