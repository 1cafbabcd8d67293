// Whether this machine has a WebGPU adapter onnxruntime can use, asked the way the app asks: the provider probe
// in a child process (a missing or broken driver can abort a process natively, tech-stack §1.7). The suite runs
// wherever it does (lavapipe on CI) and is skipped, with the reason printed, wherever it does not.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LONG_ATTENTION, childProcessProbe } from '../../src-main/engine/onnx/provider-probe.ts';
import { executionProvidersFor, type ProviderAttempt } from '../../src-main/engine/onnx/providers.ts';
import type { SessionOptions } from '../../src-main/engine/onnx/session.ts';

const report = await childProcessProbe({ executionProviders: executionProvidersFor, timeoutMs: 120_000 })('webgpu');

/** The probe's report for WebGPU on this machine. */
export const webgpuProbe: Omit<ProviderAttempt, 'provider' | 'cached'> = report;
/** The adapter runs graphs; only a wrong attention kernel (lavapipe: ≥ 32 tokens) failed the probe, if anything. */
const attentionWrong = !report.ok && report.error !== null && report.error.includes(LONG_ATTENTION);
export const hasWebGpu = report.ok || attentionWrong;
/** MultiHeadAttention over image-length sequences agrees with the CPU on this adapter. */
export const attentionRight = report.ok;
if (!hasWebGpu) console.warn(`WebGPU suite skipped: no usable WebGPU adapter on this machine (${report.error})`);
else if (!attentionRight)
  console.warn(`WebGPU suite: checks of graphs with attention over ≥ 32 tokens are skipped: ${report.error}`);

/** Session options that put every graph on WebGPU with the app's provider options. */
export const WEBGPU_SESSION: SessionOptions = { executionProviders: executionProvidersFor('webgpu') };

/**
 * A private copy of a golden folder: GPU precisions convert weights into a cache inside the model folder, and
 * nothing may ever be written into the golden folder.
 */
export function privateCopy(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'atelier-webgpu-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(dir, copy, { recursive: true });
  return copy;
}
