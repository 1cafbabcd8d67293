import { t } from '../i18n/i18n.svelte.ts';
import type {
  AtelierApi,
  CheckSpec,
  ChecklistSource,
  Events,
  IpcError,
  JobId,
  ReflectRequest,
  ReflectionSession,
  ReflectionStage,
} from '../../../../src-main/ipc/contract.ts';
import type { ImageStore } from '../workspace/image-store.ts';
import { filmstrip, type FilmstripCard } from './filmstrip.ts';

export type ReflectionPhase = 'submitting' | 'running' | 'finished' | 'cancelled' | 'failed';

/** One reflection job as the workspace shows it: its live state and the session its rounds build up. */
export interface ReflectionRun {
  /** Ours, known before main answers with the job id. */
  key: string;
  jobId: JobId | null;
  phase: ReflectionPhase;
  /** The live stage and the round it concerns (§4.7: checking → writing fix → generating). */
  stage: ReflectionStage | null;
  activeRoundId: string | null;
  checklist: { checks: CheckSpec[]; source: ChecklistSource } | null;
  /** Grows with each round; replaced by main's at the end (best round and stop reason set). */
  session: ReflectionSession | null;
  error: IpcError | null;
  prompt: string;
  threshold: number;
}

type ReflectEvent = { [E in Routed]: { event: E; payload: Events[E] } }[Routed];
type Routed =
  'job.started' | 'job.failed' | 'reflect.checklist' | 'reflect.stage' | 'reflect.round' | 'reflect.finished';
const ROUTED: readonly Routed[] = [
  'job.started',
  'job.failed',
  'reflect.checklist',
  'reflect.stage',
  'reflect.round',
  'reflect.finished',
];

/** The settings' ranges: revisions after round 0 (§4.6), and τ from the lenient default to strict and beyond (§4.4). */
export const REFLECTION_LIMITS = {
  maxRevisions: { min: 0, max: 5, step: 1 },
  threshold: { min: 0.5, max: 0.95, step: 0.05 },
};

/** Why a session stopped, in words. */
export const stopText = (reason: NonNullable<ReflectionSession['stopReason']>): string => t(`reflect.stop.${reason}`);

/** Events of jobs we have not heard the id of yet (main may announce a job before `reflect` returns). */
const EARLY_LIMIT = 200;

/** The renderer's owner of reflection IPC: starts, continues, accepts and cancels runs, and follows their events. */
export class ReflectionState {
  runs = $state<ReflectionRun[]>([]);
  /** The user's settings for the next run (§4.6): revisions after round 0, and τ. */
  maxRevisions = $state(3);
  threshold = $state(0.5);
  /** Counts round images stored so far: thumbnails read it, so an image that arrives after its round shows. */
  imagesStored = $state(0);
  /** Called with each finished session (the Studio keeps it in the project). */
  onFinished: (session: ReflectionSession) => void = () => {};
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- events held for jobs not yet known; nothing renders them
  readonly #early = new Map<JobId, ReflectEvent[]>();
  #nextKey = 0;

  constructor(
    private readonly api: AtelierApi,
    private readonly images: ImageStore,
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp read once, never mutated
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Subscribes to job and reflection events; returns the unsubscribe. */
  connect(): () => void {
    const offs = ROUTED.map((event) =>
      this.api.on(event, (payload: Events[Routed]) => this.#route({ event, payload } as ReflectEvent)),
    );
    return () => offs.forEach((off) => off());
  }

  /** A new run; `request.continueFrom` set makes it "continue from here" on that stored session. */
  async start(request: ReflectRequest): Promise<string> {
    const key = `reflect-${++this.#nextKey}`;
    // A continued run shows the stored rounds first; the new ones join them as they come.
    const session = request.continueFrom ? ($state.snapshot(request.continueFrom.session) as ReflectionSession) : null;
    this.runs.push({
      key,
      jobId: null,
      phase: 'submitting',
      stage: null,
      activeRoundId: null,
      checklist: null,
      session,
      error: null,
      prompt: request.recipe.prompt,
      threshold: request.threshold,
    });
    const answer = await this.api.jobs.reflect($state.snapshot(request) as ReflectRequest); // proxies cannot cross IPC
    const run = this.#byKey(key);
    if (!run) return key;
    if (!answer.ok) {
      this.#fail(run, answer.error);
      return key;
    }
    run.jobId = answer.value;
    if (run.phase === 'submitting') run.phase = 'running';
    for (const e of this.#early.get(answer.value) ?? []) this.#apply(run, e);
    this.#early.delete(answer.value);
    return key;
  }

  /** Stop now and keep the best round so far (§4.6 e). */
  async accept(key: string): Promise<void> {
    const run = this.#byKey(key);
    if (run?.jobId && run.phase === 'running') await this.api.jobs.acceptReflection(run.jobId);
  }

  async cancel(key: string): Promise<void> {
    const run = this.#byKey(key);
    if (run?.jobId && run.phase === 'running') await this.api.jobs.cancel(run.jobId);
  }

  /** The filmstrip of a run: one card per round, the live stage on the working one, a star on the best. */
  cards(key: string): FilmstripCard[] {
    const run = this.#byKey(key);
    return run?.session ? filmstrip(run.session, { roundId: run.activeRoundId, stage: run.stage }) : [];
  }

  #route(e: ReflectEvent): void {
    const run = this.runs.find((r) => r.jobId === e.payload.jobId);
    if (run) {
      this.#apply(run, e);
      return;
    }
    if (e.event === 'job.started' || e.event === 'job.failed') return; // other kinds of jobs share these events
    this.#early.set(e.payload.jobId, [...(this.#early.get(e.payload.jobId) ?? []), e]);
    if (this.#early.size > EARLY_LIMIT) this.#early.delete(this.#early.keys().next().value!);
  }

  #apply(run: ReflectionRun, e: ReflectEvent): void {
    switch (e.event) {
      case 'job.started':
        break;
      case 'reflect.checklist':
        run.checklist = { checks: e.payload.checks, source: e.payload.source };
        this.#session(run, e.payload.sessionId);
        break;
      case 'reflect.stage':
        run.stage = e.payload.stage;
        run.activeRoundId = e.payload.roundId;
        break;
      case 'reflect.round': {
        const session = this.#session(run, e.payload.sessionId);
        const at = session.rounds.findIndex((r) => r.id === e.payload.round.id);
        if (at < 0) session.rounds.push(e.payload.round);
        else session.rounds[at] = e.payload.round;
        if (e.payload.image)
          void this.images.add(e.payload.image.bytes, 'image/png').then(
            () => {
              this.imagesStored++;
            },
            () => {},
          ); // unreadable: the card shows its record without a picture
        break;
      }
      case 'reflect.finished':
        run.session = e.payload.session;
        run.phase = 'finished';
        run.stage = null;
        run.activeRoundId = null;
        this.onFinished(e.payload.session);
        break;
      case 'job.failed':
        if (run.phase !== 'finished') this.#fail(run, e.payload.error);
        break;
    }
  }

  /** The run's session, created on its first event (a continued run starts from the stored one). */
  #session(run: ReflectionRun, id: string): ReflectionSession {
    run.session ??= {
      id,
      prompt: run.prompt,
      createdAt: this.now().toISOString(),
      threshold: run.threshold,
      rounds: [],
      bestRoundId: null,
      stopReason: null,
    };
    return run.session;
  }

  #fail(run: ReflectionRun, error: IpcError): void {
    run.phase = error.code === 'cancelled' ? 'cancelled' : 'failed';
    run.error = error;
    run.stage = null;
    run.activeRoundId = null;
  }

  #byKey(key: string): ReflectionRun | undefined {
    return this.runs.find((r) => r.key === key);
  }
}
