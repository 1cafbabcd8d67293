import * as ort from 'onnxruntime-node';
import type { OnnxModel } from './graph-core.ts';

/**
 * onnxruntime's own log lines (placement warnings such as VerifyEachNodeIsAssignedToAnEp, Dawn notices) go to
 * the process's stderr, which in the CLI is the user's terminal. Atelier says in its own words which provider
 * runs and which ops fall back (providers.ts), and every error reaches the user through the exception, so
 * onnxruntime logs errors only unless `ATELIER_ORT_LOG` (verbose | info | warning | error | fatal) asks for more.
 * The environment level is read once, when the first session of the process is created.
 */
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
type OrtLogLevel = (typeof ORT_LOG_LEVELS)[number];
const requestedLevel = process.env.ATELIER_ORT_LOG as OrtLogLevel | undefined;
const ORT_LOG_LEVEL: OrtLogLevel = requestedLevel && ORT_LOG_LEVELS.includes(requestedLevel) ? requestedLevel : 'error';
ort.env.logLevel = ORT_LOG_LEVEL;
const ORT_LOG_SEVERITY = ORT_LOG_LEVELS.indexOf(ORT_LOG_LEVEL) as 0 | 1 | 2 | 3 | 4;

export type OnnxSessionErrorCode = 'create-failed' | 'bad-feeds' | 'run-failed';

/** A session that could not be created or run, naming the graph and carrying onnxruntime's message. */
export class OnnxSessionError extends Error {
  override readonly name = 'OnnxSessionError';
  constructor(
    readonly code: OnnxSessionErrorCode,
    readonly model: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface SessionOptions {
  /** Execution providers in order of preference; default CPU. */
  executionProviders?: ort.InferenceSession.SessionOptions['executionProviders'];
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  intraOpNumThreads?: number;
  /** Skips MLAS weight prepacking: much lower peak memory for huge CPU weights (tech-notes.md §1.4). */
  disablePrepacking?: boolean;
  /**
   * Writes onnxruntime's profile (one JSON trace per session, `<prefix>_<date>.json`) when the session is
   * released: per-node times for `npm run bench -- gpu --profile`.
   */
  profileFilePrefix?: string;
  /** Default: errors only, or what ATELIER_ORT_LOG asks for. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export type Feeds = Record<string, ort.Tensor>;

/** One loaded graph. `run` checks the feed names against the graph's inputs before calling onnxruntime. */
export class OnnxSession {
  private constructor(
    readonly model: OnnxModel,
    private readonly session: ort.InferenceSession,
    private readonly profiling: boolean,
  ) {}

  /**
   * Creates the session from the serialised bytes. External data is resolved against
   * `model.externalDataRoot` via `session.model_external_initializers_file_folder_path` (a model
   * loaded from bytes has no folder of its own; tech-notes.md §1.3).
   */
  static async create(model: OnnxModel, options: SessionOptions = {}): Promise<OnnxSession> {
    const session: Record<string, string> = {};
    if (model.externalDataRoot !== null) session.model_external_initializers_file_folder_path = model.externalDataRoot;
    if (options.disablePrepacking) session.disable_prepacking = '1';
    const ortOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: options.executionProviders ?? ['cpu'],
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      extra: { session },
    };
    if (options.intraOpNumThreads !== undefined) ortOptions.intraOpNumThreads = options.intraOpNumThreads;
    ortOptions.logSeverityLevel = options.logSeverityLevel ?? ORT_LOG_SEVERITY;
    if (options.profileFilePrefix !== undefined) {
      ortOptions.enableProfiling = true;
      ortOptions.profileFilePrefix = options.profileFilePrefix;
    }
    try {
      return new OnnxSession(
        model,
        await ort.InferenceSession.create(model.bytes, ortOptions),
        options.profileFilePrefix !== undefined,
      );
    } catch (e) {
      throw new OnnxSessionError(
        'create-failed',
        model.name,
        `cannot create an onnxruntime session for graph ${model.name}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Feeds): Promise<Record<string, ort.Tensor>> {
    const missing = this.session.inputNames.filter((n) => !(n in feeds));
    const extra = Object.keys(feeds).filter((n) => !this.session.inputNames.includes(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new OnnxSessionError(
        'bad-feeds',
        this.model.name,
        `graph ${this.model.name}: missing inputs [${missing.join(', ')}], unknown inputs [${extra.join(', ')}]`,
      );
    }
    try {
      return await this.session.run(feeds);
    } catch (e) {
      throw new OnnxSessionError(
        'run-failed',
        this.model.name,
        `graph ${this.model.name} failed to run: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  async release(): Promise<void> {
    if (this.profiling) this.session.endProfiling();
    await this.session.release();
  }
}

/** Float32 tensor helper: `f32(data, [dims])`. */
export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

/** Int64 tensor helper from plain numbers. */
export function i64(values: readonly number[], dims: readonly number[] = [values.length]): ort.Tensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}
