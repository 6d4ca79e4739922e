#!/usr/bin/env python3
"""Load a Flotilla safetensors checkpoint into the equivalent torch.nn.Sequential and run it.

Needs only the Python standard library and PyTorch (no `safetensors` package): the header is
parsed with struct/json and tensors are built with torch.frombuffer. The model comes from the
`flotilla.spec` metadata, layer i of the spec being index i of the nn.Sequential, so tensor
names are PyTorch's own (`0.weight` [out, in], `1.running_mean`, ...). Tensors outside that
scheme (e.g. `ema.0.weight`) are ignored unless `--prefix ema.` selects them instead.

    load_checkpoint.py CKPT                          # load and print a JSON summary
    load_checkpoint.py CKPT --inputs X.f32           # run on raw float32 inputs, print JSON
    load_checkpoint.py CKPT --inputs X.f32 --outputs Y.f32   # write raw float32 outputs

Inputs are little-endian float32, row-major [N, prod(spec.input)]; outputs likewise [N, out].
The model runs in eval mode (dropout off, BatchNorm on running statistics).
"""
import argparse
import json
import math
import re
import struct
import sys
import zlib
from array import array

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("load_checkpoint.py: PyTorch is not installed (import torch failed); "
             "install it with 'apt-get install python3-torch' or 'pip install torch'")

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
SEQUENTIAL_NAME = re.compile(r"^\d+\.")


class CheckpointError(Exception):
    pass


def read_safetensors(data):
    """Return ({name: tensor}, metadata, data section bytes) of a safetensors file."""
    if sys.byteorder != "little":
        raise CheckpointError("this reader assumes a little-endian machine")
    if len(data) < 8:
        raise CheckpointError(f"truncated: file has {len(data)} bytes, fewer than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise CheckpointError(f"truncated: header says {header_len} bytes, file has {len(data) - 8} after the 8-byte length")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"bad header: {e}") from None
    if not isinstance(header, dict):
        raise CheckpointError("bad header: JSON is not an object")
    metadata = header.pop("__metadata__", None) or {}
    body = data[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CheckpointError(f"tensor '{name}' has unsupported dtype {info.get('dtype')!r}")
        begin, end = info["data_offsets"]
        if end > len(body):
            raise CheckpointError(f"truncated: tensor '{name}' needs bytes up to {end}, data has {len(body)}")
        shape = [int(d) for d in info["shape"]]
        chunk = bytearray(body[begin:end])
        flat = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
        if flat.numel() != math.prod(shape):
            raise CheckpointError(f"tensor '{name}': shape {shape} does not match {end - begin} bytes")
        tensors[name] = flat.reshape(shape)
    return tensors, metadata, body


def build_model(spec, tensors):
    """nn.Sequential for a Flotilla spec; optional parts (biases, affine) follow the spec, else the file."""
    features = math.prod(spec.get("input", []))
    modules = []
    for i, layer in enumerate(spec["layers"]):
        kind = layer.get("type")
        def has(key):
            return f"{i}.{key}" in tensors
        if kind == "linear":
            out = int(layer["out"])
            modules.append(nn.Linear(features, out, bias=layer.get("bias", has("bias"))))
            features = out
        elif kind == "batchnorm":
            modules.append(nn.BatchNorm1d(features, eps=layer.get("eps", 1e-5), momentum=layer.get("momentum", 0.1),
                                          affine=layer.get("affine", has("weight"))))
        elif kind == "layernorm":
            modules.append(nn.LayerNorm(features, eps=layer.get("eps", 1e-5),
                                        elementwise_affine=layer.get("affine", has("weight"))))
        elif kind == "dropout":
            modules.append(nn.Dropout(p=layer.get("p", 0.5)))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "tanh":
            modules.append(nn.Tanh())
        elif kind == "sigmoid":
            modules.append(nn.Sigmoid())
        elif kind == "gelu":
            # Flotilla's GELU is the tanh form (see packages/core/src/ops/unary.ts).
            modules.append(nn.GELU(approximate="tanh"))
        else:
            raise CheckpointError(f"layer {i}: unsupported type {kind!r}")
    return nn.Sequential(*modules), features


def load_checkpoint(path, prefix=""):
    """Return (model in eval mode, spec, metadata, input features, output features)."""
    with open(path, "rb") as f:
        data = f.read()
    tensors, metadata, body = read_safetensors(data)
    if "flotilla.spec" not in metadata:
        raise CheckpointError("not a Flotilla checkpoint: metadata has no 'flotilla.spec'")
    stored = metadata.get("flotilla.crc32")
    if stored is not None and f"{zlib.crc32(body):08x}" != stored.lower():
        raise CheckpointError(f"corrupt checkpoint: tensor data has CRC-32 {zlib.crc32(body):08x}, metadata says {stored}")
    spec = json.loads(metadata["flotilla.spec"])
    state = {k: v for k, v in tensors.items() if SEQUENTIAL_NAME.match(k)}
    if prefix:
        state.update({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    model, out_features = build_model(spec, state)
    try:
        result = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint does not match the model: {e}") from None
    missing = [k for k in result.missing_keys if not k.endswith(".num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"checkpoint does not match the model: missing {missing}, unexpected {result.unexpected_keys}")
    model.eval()
    return model, spec, metadata, math.prod(spec.get("input", [])), out_features


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--inputs", help="raw little-endian float32 file, [N, features]")
    parser.add_argument("--outputs", help="write raw float32 outputs here instead of printing them")
    parser.add_argument("--prefix", default="", help="load tensors under this prefix (e.g. 'ema.') as the parameters")
    args = parser.parse_args()
    try:
        model, spec, metadata, in_features, out_features = load_checkpoint(args.checkpoint, args.prefix)
    except (OSError, CheckpointError, KeyError, ValueError) as e:
        sys.exit(f"load_checkpoint.py: {args.checkpoint}: {e}")
    summary = {
        "spec": spec,
        "state": json.loads(metadata.get("flotilla.state", "null")),
        "parameters": sum(p.numel() for p in model.parameters()),
        "modules": [type(m).__name__ for m in model],
    }
    if args.inputs:
        with open(args.inputs, "rb") as f:
            raw = f.read()
        if in_features == 0 or len(raw) % (4 * in_features) != 0:
            sys.exit(f"load_checkpoint.py: {args.inputs} has {len(raw)} bytes, not a multiple of {in_features} float32 features")
        x = (torch.frombuffer(bytearray(raw), dtype=torch.float32) if raw else torch.empty(0)).reshape(-1, in_features)
        with torch.no_grad():
            y = model(x).contiguous()
        summary["shape"] = list(y.shape)
        if args.outputs:
            with open(args.outputs, "wb") as f:
                f.write(array("f", y.reshape(-1).tolist()).tobytes())
            summary["outputs"] = args.outputs
        else:
            summary["outputs"] = y.tolist()
        summary["predictions"] = y.argmax(dim=1).tolist() if y.shape[1] > 1 else None
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
