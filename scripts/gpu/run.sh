#!/usr/bin/env bash
# Runs the bundled GPU benchmark on a machine without Node.js (after scripts/gpu/prepare.sh, with .gpu/ carried
# along): unpacks node and the onnxruntime library into a work folder, runs the benchmark with a time limit and
# writes gpu-bench.json and gpu-bench.log to $OUT (default .gpu/out). Arguments go to the benchmark, e.g.
#   bash scripts/gpu/run.sh                      # real DiT, webgpu and cuda
#   bash scripts/gpu/run.sh --providers webgpu --runs 5
#   bash scripts/gpu/run.sh --providers webgpu --cache-modes simple,bucket --profile   # memory per cache mode, time per op type
# GPU_BENCH_LIMIT: seconds for the whole benchmark (default 540). Weights (~8 GB) go to a temp folder under the
# repository (GPU_BENCH_WORK to choose another), removed at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gpu="$root/.gpu"
out="${OUT:-$gpu/out}"
limit="${GPU_BENCH_LIMIT:-540}"
if [ ! -f "$gpu/gpu-bench.mjs" ]; then echo "missing $gpu/gpu-bench.mjs: run scripts/gpu/prepare.sh on a machine with Node.js first" >&2; exit 2; fi

# WebGPU needs the Vulkan loader; GPU images often ship the driver's ICD without it (prepare.sh brings the .debs).
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G "$root/.gl/*.deb" >/dev/null; then
  for f in "$root"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi

work="$(mktemp -d "${GPU_BENCH_WORK:-$root}/.gpu-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
xz -dc "$gpu/node.xz" > "$work/node"
chmod +x "$work/node"
cp -r "$gpu/node_modules" "$work/node_modules"
lib="$work/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
xz -d "$lib/libonnxruntime.so.1.xz"
cp "$gpu/gpu-bench.mjs" "$work/gpu-bench.mjs"

mkdir -p "$out"
{
  echo "host: $(uname -srm), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB; node $("$work/node" --version)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "no nvidia-smi"
} 2>&1 | tee "$out/gpu-bench.log"
set +e
timeout --kill-after=20 "$limit" "$work/node" "$work/gpu-bench.mjs" --out "$out" --work "$work/weights" "$@" 2>&1 | tee -a "$out/gpu-bench.log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 124 ] && echo "gpu benchmark: stopped after ${limit} s (GPU_BENCH_LIMIT)" | tee -a "$out/gpu-bench.log"
exit "$status"
