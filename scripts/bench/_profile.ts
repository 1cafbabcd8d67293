// onnxruntime's profiler output (Chrome trace JSON, one file per session) summed per op type and provider.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface OpTypeTime {
  op: string;
  provider: string;
  ms: number;
  calls: number;
}

/** Every `<prefix>*.json` trace beside `prefix`, node kernel times summed per op type and provider, largest first. */
export function opTypeTimes(prefix: string): OpTypeTime[] {
  const dir = dirname(prefix);
  const totals = new Map<string, OpTypeTime>();
  for (const file of readdirSync(dir).filter((f) => f.startsWith(basename(prefix)) && f.endsWith('.json'))) {
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
      const key = `${e.args.op_name}\u0000${e.args.provider ?? '?'}`;
      const t = totals.get(key) ?? { op: e.args.op_name, provider: e.args.provider ?? '?', ms: 0, calls: 0 };
      t.ms += (e.dur ?? 0) / 1000;
      t.calls++;
      totals.set(key, t);
    }
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}
