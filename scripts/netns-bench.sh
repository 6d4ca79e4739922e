#!/usr/bin/env bash
# Emulated machines: the scaling benchmark with every process on its own network host.
#
#   scripts/netns-bench.sh [--rate 1gbit[,10gbit,unlimited]] [--workers 1,2] [--threads 1]
#                          [--steps 50] [--warmup 20] [--batch 256] [--out runs/netns-bench]
#                          [--run-timeout 180] [-- extra coordinator options]
#
# The coordinator and each worker run in their own network namespace ("machine") with one
# veth link ("NIC") into a bridge in a further namespace ("switch"). Every link is rate-limited
# with a tbf qdisc on both ends: the machine side shapes its upload, the switch side its
# download. So the coordinator's one link carries the N parameter copies out and the N
# gradients in, as it would on a real network. Only tbf is used (netem is not available on
# these machines): latency is not emulated, it is a parameter of the prediction model
# (`flotilla bench predict`). Nothing is added to the host's own network namespace, and the
# namespaces have no route out, so no traffic leaves the test hosts.
#
# For each rate and worker count: one short training run (coordinator + N workers, `--steps`
# steps of global batch `--batch`); the first `--warmup` steps are not timed (V8 is still
# compiling the hot paths over the first 15 or so; `flotilla bench scaling` skips 20 too). Writes
# OUT/<rate>.json (per worker count: samples/s and the step-time breakdown, bytes on the
# coordinator's link) and prints a table. `unlimited` runs the same topology without tbf.
#
# Needs root and iproute2 (ip, tc); otherwise it says why and exits 0. Every process runs
# under `timeout`; namespaces and links are removed on exit, on error and on ctrl-C.
set -euo pipefail

RATES=1gbit
WORKERS=1,2
THREADS=1
STEPS=50
WARMUP=20
BATCH=256
OUT=runs/netns-bench
RUN_TIMEOUT=180
EXTRA=()

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rate|--rates) RATES=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --run-timeout) RUN_TIMEOUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "netns-bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$THREADS" "$STEPS" "$WARMUP" "$BATCH" "$RUN_TIMEOUT"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "netns-bench: expected a whole number, got '$v'" >&2; exit 2; }
done
[[ $WORKERS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "netns-bench: --workers takes a list like 1,2" >&2; exit 2; }
[ "$STEPS" -gt "$WARMUP" ] || { echo "netns-bench: --steps must exceed --warmup" >&2; exit 2; }

skip() { echo "netns-bench: skipped: $*" >&2; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and tc); run it as root with iproute2 installed"
command -v ip >/dev/null && command -v tc >/dev/null || skip "needs iproute2 (ip and tc)"
command -v timeout >/dev/null || skip "needs coreutils timeout"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$ROOT/packages/cli/bin/flotilla.js
[ -f "$ROOT/packages/cli/dist/bench/netns-summary.js" ] || { echo "netns-bench: build first (npx turbo run build)" >&2; exit 2; }
NODE=$(command -v node)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Unique names (interface names have at most 15 characters), so runs side by side do not clash.
ID=$(( $$ % 100000 ))
SW=flnb$ID-sw
COORD=flnb$ID-c
NAMESPACES=()
PIDS=()
MAXW=0
IFS=, read -r -a WLIST <<<"$WORKERS"
for w in "${WLIST[@]}"; do [ "$w" -ge 1 ] || { echo "netns-bench: worker counts start at 1" >&2; exit 2; }; [ "$w" -gt "$MAXW" ] && MAXW=$w; done
[ "$MAXW" -le 200 ] || { echo "netns-bench: at most 200 workers" >&2; exit 2; }

stop_pids() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.3
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Anything still inside our namespaces was started by this script.
  local ns
  for ns in "${NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  PIDS=()
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  stop_pids
  local ns
  # Deleting a namespace deletes the veth ends and the bridge inside it, and with them their peers.
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  exit $status
}
trap cleanup EXIT
trap 'echo "netns-bench: interrupted" >&2; exit 130' INT TERM HUP

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# Link rate in bits/s for tc-style rates (500mbit, 1gbit, 2.5gbit, ...); empty for unlimited.
bits_per_sec() {
  case "$1" in unlimited|none) echo ""; return ;; esac
  [[ $1 =~ ^([0-9]+(\.[0-9]+)?)([kmgt]?)bit$ ]] || { echo "netns-bench: rate '$1' is not like 1gbit, 500mbit or unlimited" >&2; return 1; }
  local mult
  case "${BASH_REMATCH[3]}" in '') mult=1 ;; k) mult=1e3 ;; m) mult=1e6 ;; g) mult=1e9 ;; t) mult=1e12 ;; esac
  awk -v n="${BASH_REMATCH[1]}" -v m="$mult" 'BEGIN { printf "%.0f\n", n * m }'
}
IFS=, read -r -a RLIST <<<"$RATES"
for r in "${RLIST[@]}"; do bits_per_sec "$r" >/dev/null || exit 2; done

# The switch first: if it cannot be created, this machine cannot run the benchmark.
if ! err=$(ip netns add "$SW" 2>&1); then skip "cannot create a network namespace: $err"; fi
NAMESPACES+=("$SW")
in_ns "$SW" ip link set lo up
in_ns "$SW" ip link add br0 type bridge
in_ns "$SW" ip link set br0 up

# machine NAMESPACE PORT ADDRESS: a namespace whose eth0 is a veth into the switch's PORT.
machine() {
  local ns=$1 port=$2 addr=$3
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  in_ns "$SW" ip link add "$port" type veth peer name "${port}p"
  in_ns "$SW" ip link set "${port}p" netns "$ns"
  in_ns "$ns" ip link set "${port}p" name eth0
  in_ns "$ns" ip addr add "$addr/16" dev eth0
  in_ns "$ns" ip link set eth0 up
  in_ns "$ns" ip link set lo up
  in_ns "$SW" ip link set "$port" master br0
  in_ns "$SW" ip link set "$port" up
}
COORD_IP=10.77.0.1
PORT=7070
machine "$COORD" c "$COORD_IP"
for ((i = 1; i <= MAXW; i++)); do machine "flnb$ID-w$i" "w$i" "10.77.$(( i / 250 + 1 )).$(( i % 250 + 1 ))"; done

# shape RATE_BITS: tbf on both ends of every link (none when RATE_BITS is empty). Replacing the
# qdisc also zeroes its counters.
shape() {
  local bits=$1 ns port
  for ((i = 0; i <= MAXW; i++)); do
    if [ $i -eq 0 ]; then ns=$COORD; port=c; else ns=flnb$ID-w$i; port=w$i; fi
    in_ns "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    in_ns "$SW" tc qdisc del dev "$port" root 2>/dev/null || true
    [ -z "$bits" ] && continue
    # Bucket: 1 ms at the rate, at least 64 KiB (a GSO super-packet); queue up to 100 ms.
    local burst=$(( bits / 8000 > 65536 ? bits / 8000 : 65536 ))
    in_ns "$ns" tc qdisc add dev eth0 root tbf rate "$bits" burst "$burst" latency 100ms
    in_ns "$SW" tc qdisc add dev "$port" root tbf rate "$bits" burst "$burst" latency 100ms
  done
}
counter() { in_ns "$COORD" cat "/sys/class/net/eth0/statistics/$1"; }
drops() {
  { in_ns "$COORD" tc -s qdisc show dev eth0; in_ns "$SW" tc -s qdisc show dev c; } 2>/dev/null |
    awk '/dropped/ { gsub(",", "", $7); s += $7 } END { print s + 0 }'
}

LIMITS=(--test-limit 500)
for a in "${EXTRA[@]}"; do [ "$a" = --test-limit ] && LIMITS=(); done
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export FLOTILLA_TOKEN=$TOKEN
summaries=()
for rate in "${RLIST[@]}"; do
  label=$rate; [ "$rate" = none ] && label=unlimited
  bits=$(bits_per_sec "$rate")
  shape "$bits"
  dirs=()
  for w in "${WLIST[@]}"; do
    dir=$OUT/$label/${w}x$THREADS
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "netns-bench: $label, $w worker(s) x $THREADS thread(s), $STEPS steps of batch $BATCH ..." >&2
    shape "$bits"
    tx0=$(counter tx_bytes); rx0=$(counter rx_bytes)
    started=$(date +%s.%N)
    ip netns exec "$COORD" timeout -k 5 "$RUN_TIMEOUT" "$NODE" --initial-old-space-size=512 "$CLI" coordinator --host "$COORD_IP" --port "$PORT" \
      --workers "$w" --steps "$STEPS" --batch "$BATCH" "${LIMITS[@]}" --out "$dir/run" --json "${EXTRA[@]}" \
      >"$dir/coordinator.out" 2>"$dir/coordinator.err" &
    cpid=$!
    PIDS=("$cpid")
    for ((i = 1; i <= w; i++)); do
      ip netns exec "flnb$ID-w$i" timeout -k 5 "$RUN_TIMEOUT" "$NODE" --initial-old-space-size=512 "$CLI" worker --connect "ws://$COORD_IP:$PORT" \
        --threads "$THREADS" --retry-for 30 >"$dir/worker-$i.log" 2>&1 &
      PIDS+=("$!")
    done
    status=0
    wait "$cpid" || status=$?
    # Workers leave when the coordinator says bye; after a failed run they are stopped.
    if [ $status -ne 0 ]; then stop_pids; fi
    for pid in "${PIDS[@]:1}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ $status -ne 0 ]; then
      echo "netns-bench: the run failed (exit $status$([ $status -eq 124 ] && echo ', timed out after '"$RUN_TIMEOUT"' s')); last lines of $dir/coordinator.err:" >&2
      tail -n 5 "$dir/coordinator.err" >&2
      exit 1
    fi
    printf '{"workers":%d,"threads":%d,"coordinator_tx_bytes":%d,"coordinator_rx_bytes":%d,"drops":%d,"seconds":%s}\n' \
      "$w" "$THREADS" $(( $(counter tx_bytes) - tx0 )) $(( $(counter rx_bytes) - rx0 )) "$(drops)" "$elapsed" >"$dir/link.json"
    dirs+=("$dir")
  done
  "$NODE" --input-type=module -e '
    const [module, out, label, bits, warmup, ...dirs] = process.argv.slice(1);
    const { summarizeNetnsRuns, netnsTable } = await import(module);
    const summary = summarizeNetnsRuns(dirs, { rate: label, bitsPerSec: bits === "" ? null : Number(bits), warmup: Number(warmup) });
    (await import("node:fs")).writeFileSync(out, JSON.stringify(summary, null, 2) + "\n");
    console.log(netnsTable(summary));
  ' "$ROOT/packages/cli/dist/bench/netns-summary.js" "$OUT/$label.json" "$label" "$bits" "$WARMUP" "${dirs[@]}"
  echo "netns-bench: wrote $OUT/$label.json" >&2
  summaries+=("$OUT/$label.json")
done
