import type { AtelierApi, IpcError, JobId, ProbeResult, ProviderStatus } from '../../../../src-main/ipc/contract.ts';

/**
 * Runs the engine check (a real ONNX Runtime session in the engine host) and follows its progress; with it, asks
 * where inference runs and why (the execution provider and the reason for it), so the user can see both.
 */
export class ProbeRunner {
  phase = $state<'idle' | 'running' | 'done' | 'failed'>('idle');
  step = $state(0);
  total = $state(0);
  result = $state<ProbeResult | null>(null);
  error = $state<IpcError | null>(null);
  provider = $state<ProviderStatus | null>(null);
  providerError = $state<IpcError | null>(null);
  readonly percent = $derived(this.total === 0 ? 0 : Math.round((100 * this.step) / this.total));
  #jobId: JobId | null = null;

  constructor(private readonly api: AtelierApi) {}

  connect(): () => void {
    const offs = [
      this.api.on('job.progress', (p) => {
        if (p.jobId === this.#jobId) {
          this.step = p.step;
          this.total = p.total;
        }
      }),
      this.api.on('job.finished', (p) => {
        if (p.jobId === this.#jobId) {
          this.phase = 'done';
          this.result = p.probe ?? null;
        }
      }),
      this.api.on('job.failed', (p) => {
        if (p.jobId === this.#jobId) {
          this.phase = 'failed';
          this.error = p.error;
        }
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async start(): Promise<void> {
    this.phase = 'running';
    this.step = 0;
    this.total = 0;
    this.error = null;
    this.result = null;
    void this.checkProvider(false);
    const r = await this.api.jobs.probe({ size: 256, runs: 20 });
    if (r.ok) this.#jobId = r.value;
    else {
      this.phase = 'failed';
      this.error = r.error;
    }
  }

  /** refresh: probe the providers again instead of using what the engine remembered. */
  async checkProvider(refresh: boolean): Promise<void> {
    const r = await this.api.app.providers({ refresh });
    if (r.ok) {
      this.provider = r.value;
      this.providerError = null;
    } else this.providerError = r.error;
  }

  async cancel(): Promise<void> {
    if (this.#jobId) await this.api.jobs.cancel(this.#jobId);
  }
}
