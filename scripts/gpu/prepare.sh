#!/usr/bin/env bash
# Prepares the GPU benchmark (`npm run bench -- gpu`) to run on a lent GPU machine that has no Node.js and no npm:
# bundles scripts/bench/gpu.ts into one ESM file and puts it, a trimmed onnxruntime-node (linux/x64 only) with
# onnxruntime-common, and an xz-compressed node binary into .gpu/ (ignored through .git/info/exclude). The
# onnxruntime library is xz-compressed too, to keep the whole folder under 60 MiB; scripts/gpu/run.sh unpacks.
# Usage (on this machine, from anywhere): bash scripts/gpu/prepare.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out=.gpu
ort=node_modules/onnxruntime-node
lib=bin/napi-v6/linux/x64

exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"

mkdir -p "$out/node_modules/onnxruntime-node/$lib" "$out/node_modules/onnxruntime-common"
# esbuild: one ESM file; onnxruntime-node (native) and sharp stay external; `require` for bundled CJS code.
node_modules/.bin/esbuild scripts/gpu/entry.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --external:sharp --log-level=warning \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" \
  --outfile="$out/gpu-bench.mjs"

cp "$ort/package.json" "$out/node_modules/onnxruntime-node/"
rm -rf "$out/node_modules/onnxruntime-node/dist" && cp -r "$ort/dist" "$out/node_modules/onnxruntime-node/dist"
cp "$ort/$lib/onnxruntime_binding.node" "$out/node_modules/onnxruntime-node/$lib/"
so="$out/node_modules/onnxruntime-node/$lib/libonnxruntime.so.1.xz"
if [ ! -f "$so" ] || [ "$ort/$lib/libonnxruntime.so.1" -nt "$so" ]; then
  xz -T0 -6 -c "$ort/$lib/libonnxruntime.so.1" > "$so.tmp" && mv "$so.tmp" "$so"
fi
cp node_modules/onnxruntime-common/package.json "$out/node_modules/onnxruntime-common/"
rm -rf "$out/node_modules/onnxruntime-common/dist" && cp -r node_modules/onnxruntime-common/dist "$out/node_modules/onnxruntime-common/dist"
find "$out/node_modules" -name '*.map' -delete

if [ ! -f "$out/node.xz" ]; then
  if [ -f /tmp/gpucarry/node.xz ]; then cp /tmp/gpucarry/node.xz "$out/node.xz"
  else xz -T0 -6 -c "$(command -v node)" > "$out/node.xz.tmp" && mv "$out/node.xz.tmp" "$out/node.xz"; fi
fi

bytes=$(du -sb "$out" | cut -f1)
echo "prepared $out: $((bytes / 1048576)) MiB (node $(node --version), onnxruntime-node $(node -p "require('./$ort/package.json').version"))"
if [ "$bytes" -ge $((60 * 1048576)) ]; then echo "error: $out is over 60 MiB" >&2; exit 1; fi

# The Vulkan loader for WebGPU, as Debian packages unpacked by run.sh where the GPU machine lacks it.
grep -qxF '/.gl/' "$exclude" 2>/dev/null || echo '/.gl/' >> "$exclude"
if ! compgen -G ".gl/libvulkan1_*.deb" >/dev/null; then
  mkdir -p .gl /tmp/atelier-apt-amd64/partial
  apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/atelier-apt-amd64)
  apt-get "${apt_opts[@]}" update -qq && (cd .gl && apt-get "${apt_opts[@]}" download libvulkan1 >/dev/null)
fi
echo "carry .gpu and .gl; on the GPU machine: bash scripts/gpu/run.sh"

