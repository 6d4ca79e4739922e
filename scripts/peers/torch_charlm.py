#!/usr/bin/env python3
"""Train issue 7's flat and WaveNet character models in PyTorch on Flotilla's own split.

The data are exactly the examples Flotilla trains and evaluates on: export_char_split.mjs
writes the train/val/test split of a character data set (`names`, `words`, `lines:PATH`)
to a folder, and this script reads it (--data DIR), or runs the exporter itself into a
temporary folder (--dataset NAME; needs node and the built packages).

Models (issue 7; context 8, 27 characters), PyTorch default initialisation throughout:
  flat:    Embedding(27, 10) -> flatten -> Linear(80, 200, bias=False) -> BatchNorm1d(200)
           -> tanh -> Linear(200, 27)                                        22,097 parameters
  wavenet: Embedding(27, 24), then three times FlattenConsecutive(2) -> Linear(->128,
           bias=False) -> BatchNorm1d(128) -> tanh, then Linear(128, 27)     76,579 parameters
FlattenConsecutive(n) maps [B, T, C] to [B, T/n, n*C] and drops the time axis when one step
is left (makemore part 5). BatchNorm of a 3-D [B, T, C] input normalises each channel over
batch and time (makemore part 5's dims (0, 1)); here nn.BatchNorm1d on the transposed
[B, C, T], so training normalises with the biased batch variance and the running variance
(momentum 0.1, eps 1e-5) takes the unbiased one, as nn.BatchNorm1d always does.

Training as `flotilla train --local` does: Adam (lr 3e-3, betas 0.9/0.999, eps 1e-8), batch
64, every epoch a fresh shuffle of the training examples cut into batches (the last one
partial), up to 50,000 steps. After every epoch (--eval-every steps; default one epoch) the
validation and test losses are computed in eval mode (BatchNorm running statistics), as the
mean cross-entropy in nats per character over the whole split. Early stopping: after
--patience evaluations without a new best validation loss the run stops; the best
validation loss, the step it was reached at (optimizer steps taken) and the test loss of
the same weights are reported. --sampling random draws each batch uniformly with
replacement instead (torch.randint, as in makemore), evaluating every epoch-equivalent.

    /usr/bin/python3 scripts/peers/torch_charlm.py --model wavenet            # names, seed 0
    /usr/bin/python3 scripts/peers/torch_charlm.py --model flat --seed 1 --json
    node scripts/peers/export_char_split.mjs names /tmp/names-split
    /usr/bin/python3 scripts/peers/torch_charlm.py --data /tmp/names-split --model wavenet

The last line of stdout is one JSON object; with --json the human-readable lines go to
stderr. Standard library and PyTorch only (Debian: apt-get install python3-torch, then use
/usr/bin/python3).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROG = "torch_charlm.py"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
HERE = Path(__file__).resolve().parent
EXPORTER = HERE / "export_char_split.mjs"
PARAMETERS = {"flat": 22097, "wavenet": 76579}


def parse_args():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("flat", "wavenet"), default="wavenet", help="which model (default wavenet)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", default="names", help="Flotilla data set to export and train on (default names)")
    src.add_argument("--data", help="a folder written by export_char_split.mjs (instead of --dataset)")
    p.add_argument("--steps", type=int, default=50000, help="at most this many optimizer steps (default 50000)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    p.add_argument("--patience", type=int, default=5,
                   help="stop after this many evaluations without a better validation loss (default 5; 0: never)")
    p.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (default 0: once per epoch)")
    p.add_argument("--sampling", choices=("epoch", "random"), default="epoch",
                   help="epoch: shuffled epochs as Flotilla (default); random: batches drawn with replacement")
    p.add_argument("--seed", type=int, default=0, help="seed for init and batch order (default 0)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--json", action="store_true", help="human-readable lines to stderr; stdout is only the JSON line")
    a = p.parse_args()
    if a.steps < 1 or a.batch < 2 or a.lr <= 0 or a.patience < 0 or a.eval_every < 0 or a.threads < 1 or a.seed < 0:
        p.error("--steps >= 1, --batch >= 2, --lr > 0, --threads >= 1; --patience, --eval-every and --seed >= 0")
    return a


ARGS = parse_args()
# Thread counts must be in the environment before torch loads its BLAS and OpenMP runtimes.
for _var in THREAD_VARS:
    os.environ[_var] = str(ARGS.threads)

try:
    import torch
except ImportError as e:
    sys.exit(f"{PROG}: PyTorch is not installed for {sys.executable} ({e}); install it with "
             "'apt-get install python3-torch' (Debian) or 'pip install torch', or run /usr/bin/python3")

from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LOG = sys.stderr if ARGS.json else sys.stdout


class DataError(Exception):
    pass


def log(line):
    print(line, file=LOG, flush=True)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# --- data -------------------------------------------------------------------------------

DTYPES = {"uint8": (torch.uint8, 1), "int32": (torch.int32, 4)}


def read_split(folder):
    """{"meta": ..., "train"/"val"/"test": (inputs int64 [N, context], labels int64 [N])}."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {folder / 'meta.json'} ({e}); write the folder with "
                        f"'node scripts/peers/export_char_split.mjs DATASET {folder}'") from None
    if meta.get("dtype") not in DTYPES:
        raise DataError(f"{folder / 'meta.json'}: unknown dtype {meta.get('dtype')!r}")
    dtype, size = DTYPES[meta["dtype"]]
    context, vocab = int(meta["context"]), len(meta["vocab"])
    out = {"meta": meta}
    for split in ("train", "val", "test"):
        n = int(meta["counts"][split])
        tensors = []
        for kind, per in (("inputs", context), ("labels", 1)):
            path = folder / f"{split}.{kind}"
            try:
                raw = path.read_bytes()
            except OSError as e:
                raise DataError(f"cannot read {path}: {e.strerror}") from None
            if len(raw) != n * per * size:
                raise DataError(f"{path}: {len(raw)} bytes, expected {n * per * size} ({n} examples)")
            t = torch.frombuffer(bytearray(raw), dtype=dtype).long()
            if n and (int(t.min()) < 0 or int(t.max()) >= vocab):
                raise DataError(f"{path}: character index outside 0..{vocab - 1}")
            tensors.append(t.reshape(n, context) if kind == "inputs" else t)
        out[split] = tuple(tensors)
    return out


def export_split(name, folder):
    node = shutil.which("node")
    if node is None:
        raise DataError("node is not on PATH: it writes Flotilla's split (or pass --data DIR from export_char_split.mjs)")
    done = subprocess.run([node, str(EXPORTER), name, str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise DataError(f"export_char_split.mjs failed: {done.stderr.strip() or done.stdout.strip()}")


# --- models -----------------------------------------------------------------------------

class FlattenConsecutive(nn.Module):
    """[B, T, C] -> [B, T/n, n*C]; [B, n*C] when one step is left (makemore part 5)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        b, t, c = x.shape
        x = x.reshape(b, t // self.n, c * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x


class BatchNorm(nn.BatchNorm1d):
    """nn.BatchNorm1d over the last (channel) axis: [B, C] as is, [B, T, C] per channel over B and T."""

    def forward(self, x):
        if x.dim() == 3:
            return super().forward(x.transpose(1, 2)).transpose(1, 2)
        return super().forward(x)


def build_model(kind, vocab, context):
    if kind == "flat":
        return nn.Sequential(
            nn.Embedding(vocab, 10), nn.Flatten(),
            nn.Linear(10 * context, 200, bias=False), BatchNorm(200), nn.Tanh(),
            nn.Linear(200, vocab),
        )
    if context != 8:
        raise DataError(f"the WaveNet model needs context 8 (three halvings), the data have {context}")
    layers, width = [nn.Embedding(vocab, 24)], 24
    for _ in range(3):
        layers += [FlattenConsecutive(2), nn.Linear(2 * width, 128, bias=False), BatchNorm(128), nn.Tanh()]
        width = 128
    layers.append(nn.Linear(128, vocab))
    return nn.Sequential(*layers)


@torch.no_grad()
def mean_loss(model, x, y, batch=1000):
    """Mean cross-entropy (nats per character) in eval mode: BatchNorm running statistics."""
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, x.shape[0], batch):
        total += float(F.cross_entropy(model(x[start:start + batch]), y[start:start + batch], reduction="sum"))
    model.train(was_training)
    return total / x.shape[0]


# --- training ---------------------------------------------------------------------------

def train(args, data):
    meta = data["meta"]
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    vocab, context = len(meta["vocab"]), int(meta["context"])
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set, or parallel work has started
    torch.manual_seed(args.seed)
    model = build_model(args.model, vocab, context)
    params = sum(p.numel() for p in model.parameters())
    if vocab == 27 and params != PARAMETERS[args.model]:
        raise AssertionError(f"{args.model}: {params} parameters, issue 7 says {PARAMETERS[args.model]}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    n = xtr.shape[0]
    per_epoch = math.ceil(n / args.batch)
    eval_every = args.eval_every or per_epoch
    log(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s): {args.model}, {params:,} parameters; "
        f"{meta['dataset']}: {n:,} training, {xva.shape[0]:,} validation, {xte.shape[0]:,} test examples; "
        f"batch {args.batch} ({per_epoch} per epoch, {args.sampling} sampling), up to {args.steps:,} steps, "
        f"evaluating every {eval_every} steps, patience {args.patience}")

    def batches():
        """Index tensors of successive batches: shuffled epochs (last batch partial) or uniform draws."""
        while True:
            if args.sampling == "random":
                yield torch.randint(0, n, (args.batch,), generator=gen)
                continue
            perm = torch.randperm(n, generator=gen)
            for start in range(0, n, args.batch):
                idx = perm[start:start + args.batch]
                if idx.shape[0] > 1:  # a 1-row batch has no batch statistics for the 2-D BatchNorm
                    yield idx

    model.train()
    history = []
    best = {"val_loss": math.inf, "step": 0, "test_loss": None, "train_loss": None}
    since_best, step, seen = 0, 0, 0
    loss_sum, loss_rows = 0.0, 0
    started = time.perf_counter()
    train_seconds = 0.0
    stopped_early = False
    for idx in batches():
        xb, yb = xtr[idx], ytr[idx]
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        train_seconds += time.perf_counter() - t0
        step += 1
        seen += idx.shape[0]
        loss_sum += float(loss) * idx.shape[0]
        loss_rows += idx.shape[0]
        if step % eval_every == 0 or step == args.steps:
            val, test = mean_loss(model, xva, yva), mean_loss(model, xte, yte)
            train_loss = loss_sum / loss_rows
            loss_sum, loss_rows = 0.0, 0
            history.append({"step": step, "train_loss": train_loss, "val_loss": val, "test_loss": test})
            mark = ""
            if val < best["val_loss"]:
                best = {"val_loss": val, "step": step, "test_loss": test, "train_loss": train_loss}
                since_best, mark = 0, " *"
            else:
                since_best += 1
            log(f"step {step:>6}: train loss {train_loss:.4f}, val loss {val:.4f}, test loss {test:.4f}{mark} "
                f"({seen / train_seconds:.0f} samples/s)")
            if args.patience and since_best >= args.patience:
                stopped_early = True
                log(f"early stopping: no better validation loss in {args.patience} evaluations; best {best['val_loss']:.4f} "
                    f"at step {best['step']}")
                break
        if step >= args.steps:
            break
    log(f"{args.model}: best validation loss {best['val_loss']:.4f} at step {best['step']}, "
        f"test loss there {best['test_loss']:.4f}")
    return {
        "framework": "pytorch", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "dataset": meta["dataset"], "model": args.model, "parameters": params, "seed": args.seed,
        "batch": args.batch, "lr": args.lr, "sampling": args.sampling, "max_steps": args.steps,
        "eval_every": eval_every, "patience": args.patience,
        "train_count": n, "val_count": int(xva.shape[0]), "test_count": int(xte.shape[0]),
        "best_val_loss": best["val_loss"], "best_step": best["step"], "test_loss": best["test_loss"],
        "train_loss_at_best": best["train_loss"],
        "steps": step, "stopped_early": stopped_early, "history": history,
        "samples_per_sec": seen / train_seconds if train_seconds > 0 else None,
        "train_seconds": train_seconds, "seconds": time.perf_counter() - started,
    }


def main():
    try:
        if ARGS.data:
            data = read_split(ARGS.data)
        else:
            with tempfile.TemporaryDirectory(prefix="flotilla-split-") as folder:
                export_split(ARGS.dataset, folder)
                data = read_split(folder)
        emit(train(ARGS, data))
    except DataError as e:
        sys.exit(f"{PROG}: {e}")


if __name__ == "__main__":
    main()
