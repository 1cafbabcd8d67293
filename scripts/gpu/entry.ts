// Entry of the self-contained GPU benchmark bundle (scripts/gpu/prepare.sh): `node gpu-bench.mjs [options]`
// runs what `npm run bench -- gpu [options]` runs, on a machine with no npm and no node_modules but the
// onnxruntime packages prepare.sh carries.
import { run } from '../bench/gpu.ts';

await run(process.argv.slice(2));
