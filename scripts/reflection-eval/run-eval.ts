// Runs the reflection evaluation (reflection.md §4.8) on a model folder; see README.md next to this file.
//   npx tsx scripts/reflection-eval/run-eval.ts --model DIR --out DIR [--limit N] [--tags a,b] [--seeds 0,1]
//     [--steps 50] [--size 1024] [--max-revisions 3] [--threshold 0.5] [--best-of 4] [--arms round0,loop,best-of-n]
//     [--provider auto] [--memory-mode all-resident]
//   npx tsx scripts/reflection-eval/run-eval.ts --report-only --out DIR [--geneval ARM=results.jsonl …]
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../../src-main/engine/onnx/providers.ts';
import { MEMORY_MODES, type MemoryMode } from '../../src-main/engine/pipeline/memory-mode.ts';
import { ModelSet } from '../../src-main/engine/pipeline/model-set.ts';
import { ModelCritic, PipelineGenerator } from '../../src-main/engine/pipeline/reflection.ts';
import { ARM_NAMES, runArms, type ArmName } from './arms.ts';
import { judgeImage } from './judge.ts';
import { buildReport, loadGenevalResults, loadRecords, type EvalRecord } from './report.ts';
import { EVAL_TAGS, judgeQuestions, loadPrompts, type EvalPrompt, type EvalTag } from './spec.ts';

const here = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
    prompts: { type: 'string' },
    limit: { type: 'string' },
    tags: { type: 'string' },
    seeds: { type: 'string' },
    steps: { type: 'string' },
    size: { type: 'string' },
    'max-revisions': { type: 'string' },
    threshold: { type: 'string' },
    'best-of': { type: 'string' },
    arms: { type: 'string' },
    'report-only': { type: 'boolean' },
    geneval: { type: 'string', multiple: true },
    provider: { type: 'string' },
    'memory-mode': { type: 'string' },
  },
  strict: true,
});

const list = (raw: string | undefined, fallback: string[]) =>
  raw === undefined
    ? fallback
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
const int = (raw: string | undefined, fallback: number) => {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`expected a whole number, got ${raw}`);
  return v;
};

const out = resolve(values.out ?? 'reflection-eval-out');
const resultsPath = join(out, 'results.jsonl');

if (!values['report-only']) await evaluate();
writeReport();

async function evaluate(): Promise<void> {
  if (!values.model) throw new Error('--model DIR is required (a folder with transformer/, vae/, mllm/, processor/)');
  const tags = list(values.tags, [...EVAL_TAGS]) as EvalTag[];
  const arms = new Set(list(values.arms, ['round0', 'loop', 'best-of-n']) as ArmName[]);
  for (const arm of arms)
    if (!ARM_NAMES.includes(arm)) throw new Error(`unknown arm ${arm} (arms: ${ARM_NAMES.join(', ')})`);
  const prompts = loadPrompts(values.prompts ?? join(here, 'prompts.jsonl'))
    .map((p, index) => ({ ...p, index }))
    .filter((p) => tags.includes(p.tag));
  const chosen = prompts.slice(0, values.limit === undefined ? prompts.length : int(values.limit, prompts.length));
  const seeds = list(values.seeds, ['0']).map((s) => int(s, 0));
  const size = int(values.size, 1024);
  const maxRevisions = int(values['max-revisions'], 3);
  const settings = {
    params: {
      steps: int(values.steps, 50),
      textGuidance: 5,
      imageGuidance: 2,
      cfgRange: [0, 1] as [number, number],
      scheduler: 'euler' as const,
      width: size,
      height: size,
      maxPixels: size * size,
      maxSideLength: size,
      seed: 0,
    },
    negative: '',
    maxRevisions,
    threshold: Number(values.threshold ?? 0.5),
    bestOf: int(values['best-of'], maxRevisions + 1),
    arms,
  };

  mkdirSync(out, { recursive: true });
  if (existsSync(resultsPath))
    throw new Error(`${resultsPath} exists: use a fresh --out folder, or --report-only to rebuild the report`);
  writeFileSync(
    join(out, 'settings.json'),
    `${JSON.stringify({ ...settings, arms: [...arms], seeds, prompts: chosen.length, model: values.model }, null, 2)}\n`,
  );
  const preference = (values.provider ?? 'auto') as ProviderPreference;
  const memoryMode = (values['memory-mode'] ?? 'all-resident') as MemoryMode;
  if (!PROVIDER_PREFERENCES.includes(preference))
    throw new Error(`--provider takes ${PROVIDER_PREFERENCES.join(', ')}`);
  if (!MEMORY_MODES.includes(memoryMode)) throw new Error(`--memory-mode takes ${MEMORY_MODES.join(', ')}`);
  const models = new ModelSet();
  // all-resident by default: the loop alternates DiT and MLLM every round, and reloading them would dominate the time.
  const model = await models.openFor(values.model, { provider: { preference }, memoryMode });
  process.stderr.write(`running on ${model.runtime.provider}, ${memoryMode}\n`);
  const critic = await ModelCritic.create(() => model.mllm());
  const generator = new PipelineGenerator(model);
  try {
    for (const p of chosen) {
      const questions = judgeQuestions(p);
      for (const [s, seed] of seeds.entries()) {
        const results = await runArms(p, seed, { ...settings, critic, generator });
        for (const r of results) {
          const file = saveImage(r.arm, p, s, r.png);
          const verdict = await judgeImage(critic, r.rgb, p, questions);
          const record: EvalRecord = {
            index: p.index,
            tag: p.tag,
            prompt: p.prompt,
            seed,
            arm: r.arm,
            ...verdict,
            imagesUsed: r.imagesUsed,
            ms: r.ms,
            ...(r.loop ? { loop: r.loop } : {}),
            file,
          };
          appendFileSync(resultsPath, `${JSON.stringify(record)}\n`);
          process.stderr.write(
            `[${p.index}] ${p.prompt} · seed ${seed} · ${r.arm}: ${verdict.strict ? 'pass' : 'fail'} (${r.imagesUsed} images, ${(r.ms / 1000).toFixed(1)} s)\n`,
          );
        }
      }
    }
  } finally {
    await models.release();
  }
}

/** GenEval's folder layout (`<arm>/<index:05>/metadata.jsonl` + `samples/<n:04>.png`), so its scorer runs on it as is. */
function saveImage(arm: ArmName, p: EvalPrompt & { index: number }, sample: number, png: Uint8Array): string {
  const folder = join('geneval', arm, String(p.index).padStart(5, '0'));
  mkdirSync(join(out, folder, 'samples'), { recursive: true });
  const { index: _, ...metadata } = p;
  writeFileSync(join(out, folder, 'metadata.jsonl'), `${JSON.stringify(metadata)}\n`);
  const file = join(folder, 'samples', `${String(sample).padStart(4, '0')}.png`);
  writeFileSync(join(out, file), png);
  return file.replaceAll('\\', '/');
}

function writeReport(): void {
  const records = loadRecords(resultsPath);
  const geneval = new Map<string, boolean>();
  for (const spec of values.geneval ?? []) {
    const [arm, path] = spec.split('=');
    if (!arm || !path) throw new Error(`--geneval takes ARM=path/to/results.jsonl, got ${spec}`);
    for (const [file, ok] of loadGenevalResults(
      resolve(path),
      records.filter((r) => r.arm === arm).map((r) => r.file),
    ))
      geneval.set(file, ok);
  }
  writeFileSync(join(out, 'report.md'), buildReport(records, geneval.size > 0 ? geneval : undefined));
  process.stderr.write(`wrote ${join(out, 'report.md')}\n`);
}
