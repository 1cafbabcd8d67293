// Messages between the app (main process, CLI, tests) and the engine host (utilityProcess or worker thread).
// Plain structured-clone data only, so the same messages cross a MessagePort, a worker boundary or parentPort.
import type { ProviderRequest } from '../onnx/providers.ts';
import type { ChatJob, ChatReport } from '../pipeline/chat-job.ts';
import type { GenerateJob } from '../pipeline/generate-job.ts';
import type { ReflectJob, ReflectReport } from '../pipeline/reflection/reflect-job.ts';

/** What a job asks the engine to do. Each kind has one handler in the engine host (see tasks.ts). */
export type EngineTask =
  | { kind: 'probe'; size: number; runs: number }
  | { kind: 'generate'; job: GenerateJob }
  | { kind: 'providers'; request: ProviderRequest }
  | { kind: 'reflect'; job: ReflectJob }
  | { kind: 'chat'; job: ChatJob };

export type ToEngine = { type: 'run'; jobId: string; task: EngineTask } | { type: 'cancel'; jobId: string };

export interface EngineProgress {
  step: number;
  total: number;
  stage: string;
  etaMs: number | null;
  preview?: Uint8Array;
  /** Task state that is not step progress (a reflection's rounds and stages); the app routes it by kind, not as progress. */
  report?: EngineReport;
}

export type EngineReport = ReflectReport | ChatReport;

/** An error that crossed the boundary: its class is lost, so the code travels as data. */
export interface EngineFailure {
  code: string;
  message: string;
  detail?: Record<string, string | number | boolean>;
}

export type FromEngine =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; progress: EngineProgress }
  | { type: 'done'; jobId: string; result: unknown }
  | { type: 'failed'; jobId: string; error: EngineFailure };

/** The two ends of a message channel, whatever carries it. */
export interface MessageEndpoint<In, Out> {
  post(message: Out): void;
  onMessage(listener: (message: In) => void): void;
}
