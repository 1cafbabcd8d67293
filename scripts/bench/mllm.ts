// `npm run bench -- mllm [--prompt N] [--decode N]`: prefill and KV-cache decode speed of the Qwen2.5-VL text decoder
// (onnxruntime CPU, fp32) for the golden tiny model and a mid-size synthetic config with random weights; then chat
// through the engine host as the app and `atelier chat` run it (worker thread): time to first token and tokens/s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpSync } from 'node:fs';
import { startWorkerEngine } from '../../src-main/engine/host/worker-engine.ts';
import { QwenTextModel, type KvCache } from '../../src-main/engine/models/qwen-text.ts';
import type { ChatOutcome } from '../../src-main/engine/pipeline/chat-job.ts';
import { continuationPositionIds, textPositionIds } from '../../src-main/engine/sampling/mrope.ts';
import { SeededRng } from '../../src-main/engine/sampling/rng.ts';
import { writeSafetensors, type TensorToWrite } from '../../src-main/engine/weights/safetensors-writer.ts';
import { median, peakRssMiB, printTable, timeRuns } from './_report.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

/** Mid-size synthetic decoder: hidden 512, 8 layers, 8 query / 2 KV heads of 64, vocab 32000. */
const MID = {
  vocab_size: 32000,
  hidden_size: 512,
  intermediate_size: 1536,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1e6,
  tie_word_embeddings: true,
  rope_scaling: { type: 'mrope', mrope_section: [8, 12, 12] },
  image_token_id: 31000,
  vision_start_token_id: 30998,
  vision_end_token_id: 30999,
};

/** Writes `<dir>/config.json` and random N(0, 0.02²) weights under the released key names. */
function writeSyntheticModel(dir: string): void {
  const c = MID;
  const d = c.hidden_size / c.num_attention_heads;
  const rng = new SeededRng(1);
  const random = (shape: number[]): TensorToWrite => {
    const data = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))).map((v) => 0.02 * v);
    return { dtype: 'F32', shape, data };
  };
  const ones = (n: number): TensorToWrite => ({ dtype: 'F32', shape: [n], data: new Float32Array(n).fill(1) });
  const D = c.hidden_size,
    F = c.intermediate_size,
    KV = c.num_key_value_heads * d;
  const tensors: Record<string, TensorToWrite> = {
    'model.embed_tokens.weight': random([c.vocab_size, D]),
    'model.norm.weight': ones(D),
  };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    Object.assign(tensors, {
      [`${p}.input_layernorm.weight`]: ones(D),
      [`${p}.post_attention_layernorm.weight`]: ones(D),
      [`${p}.self_attn.q_proj.weight`]: random([D, D]),
      [`${p}.self_attn.q_proj.bias`]: random([D]),
      [`${p}.self_attn.k_proj.weight`]: random([KV, D]),
      [`${p}.self_attn.k_proj.bias`]: random([KV]),
      [`${p}.self_attn.v_proj.weight`]: random([KV, D]),
      [`${p}.self_attn.v_proj.bias`]: random([KV]),
      [`${p}.self_attn.o_proj.weight`]: random([D, D]),
      [`${p}.mlp.gate_proj.weight`]: random([F, D]),
      [`${p}.mlp.up_proj.weight`]: random([F, D]),
      [`${p}.mlp.down_proj.weight`]: random([D, F]),
    });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
}

interface Figures {
  model: string;
  prefillMs: number;
  prefillTokS: number;
  decodeMsPerToken: number;
  decodeTokS: number;
}

async function measure(label: string, dir: string, promptTokens: number, decodeTokens: number): Promise<Figures> {
  const model = await QwenTextModel.load(dir);
  try {
    const V = model.config.vocabSize;
    const ids = Array.from({ length: promptTokens }, (_, i) => (i * 7919) % V);
    const embeds = model.embed(ids);
    let cache: KvCache | undefined;
    const prefill = await timeRuns(async () => {
      cache = (await model.forward({ embeds, positions: textPositionIds(promptTokens) })).cache;
    }, 5);
    const decode = await timeRuns(async () => {
      let c = cache!;
      for (let i = 0; i < decodeTokens; i++) {
        c = (
          await model.forward({
            embeds: model.embed([ids[i % promptTokens]!]),
            positions: continuationPositionIds(c.length, 1, 0),
            cache: c,
          })
        ).cache;
      }
    }, 3);
    const prefillMs = median(prefill);
    const decodeMsPerToken = median(decode) / decodeTokens;
    return {
      model: label,
      prefillMs,
      prefillTokS: (1000 * promptTokens) / prefillMs,
      decodeMsPerToken,
      decodeTokS: 1000 / decodeMsPerToken,
    };
  } finally {
    await model.release();
  }
}

interface ChatFigures {
  model: string;
  loadMs: number;
  firstTokenMs: number;
  clientTtftMs: number;
  decodeTokS: number;
  newTokens: number;
}

/**
 * One chat turn, as the app sends it, timed: the engine's own first-token time (prefill of the templated prompt
 * plus the first pick, after the model is loaded), the client's time from submitting the job to the answer's
 * first report (includes the worker boundary), and decode speed after the first token.
 */
async function measureChat(
  label: string,
  modelDir: string,
  promptTokens: number,
  decodeTokens: number,
): Promise<ChatFigures> {
  const engine = startWorkerEngine();
  // A byte-level tokenizer spends about one token per character; the chat template adds ~30.
  const question = 'Describe the picture in detail. '.repeat(Math.max(1, Math.round((promptTokens - 30) / 32))).trim();
  const job = { modelDir, turns: [{ role: 'user' as const, text: question }], images: [], maxNewTokens: decodeTokens };
  try {
    const ask = async (id: string) => {
      const start = performance.now();
      let firstReport = Number.NaN;
      const outcome = (await engine.run(
        id,
        { kind: 'chat', job },
        {
          onProgress: (p) => {
            if (p.stage === 'answering' && Number.isNaN(firstReport)) firstReport = performance.now() - start;
          },
        },
      )) as ChatOutcome;
      return { outcome, clientTtftMs: firstReport };
    };
    const cold = await ask('cold');
    const warm = [await ask('w1'), await ask('w2'), await ask('w3')];
    const perToken = warm.map(({ outcome: o }) => (o.newTokens > 1 ? o.decodeMs / (o.newTokens - 1) : Number.NaN));
    return {
      model: label,
      loadMs: cold.outcome.loadMs,
      firstTokenMs: median(warm.map((w) => w.outcome.firstTokenMs)),
      clientTtftMs: median(warm.map((w) => w.clientTtftMs)),
      decodeTokS: 1000 / median(perToken),
      newTokens: median(warm.map((w) => w.outcome.newTokens)),
    };
  } finally {
    await engine.dispose();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { prompt: { type: 'string' }, decode: { type: 'string' } } });
  const promptTokens = Number(values.prompt ?? 128);
  const decodeTokens = Number(values.decode ?? 32);
  const golden = goldenDir();
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-mllm-'));
  try {
    writeSyntheticModel(join(tmp, 'mid'));
    const rows = [
      await measure(
        'tiny (golden mllm: D 64, 2 layers, 4/2 heads, vocab 1024)',
        join(golden, 'mllm'),
        promptTokens,
        decodeTokens,
      ),
      await measure(
        'mid (synthetic: D 512, 8 layers, 8/2 heads, vocab 32000)',
        join(tmp, 'mid'),
        promptTokens,
        decodeTokens,
      ),
    ];
    printTable(
      `Qwen text decoder, onnxruntime CPU fp32, prompt ${promptTokens} tokens, ${decodeTokens} decoded (medians)`,
      rows.map((r) => ({
        model: r.model,
        'prefill ms': r.prefillMs,
        'prefill tok/s': r.prefillTokS,
        'decode ms/tok': r.decodeMsPerToken,
        'decode tok/s': r.decodeTokS,
      })),
    );
    // A model folder for chat: the mid decoder with the tiny tokenizer (its ids fit the mid vocabulary).
    mkdirSync(join(tmp, 'mid-model'));
    cpSync(join(tmp, 'mid'), join(tmp, 'mid-model', 'mllm'), { recursive: true });
    cpSync(join(golden, 'e2e', 'model', 'processor'), join(tmp, 'mid-model', 'processor'), { recursive: true });
    const chats = [
      await measureChat('tiny (golden e2e model)', join(golden, 'e2e', 'model'), promptTokens, decodeTokens),
      await measureChat('mid (synthetic, as above)', join(tmp, 'mid-model'), promptTokens, decodeTokens),
    ];
    printTable(
      `Chat through the engine host (worker thread), prompt ≈${promptTokens} tokens, up to ${decodeTokens} new (warm medians of 3)`,
      chats.map((r) => ({
        model: r.model,
        'load ms (first)': r.loadMs,
        'first token ms': r.firstTokenMs,
        'ttft ms (client)': r.clientTtftMs,
        'decode tok/s': r.decodeTokS,
        'new tokens': r.newTokens,
      })),
    );
    console.log(`peak RSS ${peakRssMiB().toFixed(0)} MiB (main thread; the engine's worker shares the process)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
