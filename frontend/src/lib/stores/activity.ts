// Decision log, filters and timeline for the Activity view.
import { get, writable } from 'svelte/store';
import * as api from '$api';
import type { LogFilter, LogRow, Timeline, VerifyResult } from '$api';
import { errText } from '../format';

export const defaultFilter = (): LogFilter => ({
  server: '', tool: '', kind: '', outcome: '', tier: -1, text: '', sinceHours: 24, limit: 500,
});

export const filter = writable<LogFilter>(defaultFilter());
export const rows = writable<LogRow[]>([]);
export const loading = writable(false);
export const error = writable('');
export const timeline = writable<Timeline | null>(null);
export const verify = writable<VerifyResult | null>(null);

let seq = 0;
export async function refreshLog() {
  const my = ++seq;
  loading.set(true);
  try {
    const r = await api.log(get(filter));
    if (my === seq) {
      rows.set(r);
      error.set('');
    }
  } catch (e) {
    if (my === seq) error.set(errText(e));
  } finally {
    if (my === seq) loading.set(false);
  }
}

export async function refreshTimeline() {
  try {
    timeline.set(await api.timeline(24));
  } catch {
    timeline.set(null);
  }
}

export async function runVerify() {
  try {
    verify.set(await api.verifyLog());
  } catch (e) {
    verify.set({ ok: false, rows: 0, badId: 0, problem: 'could not verify', detail: errText(e) });
  }
}

export async function exportLog(format: 'jsonl' | 'csv'): Promise<string> {
  return api.exportLog(format, get(filter));
}

/** Refresh log and timeline on airlock:log, coalescing bursts. */
export function watchLog(delay = 250): () => void {
  let t: ReturnType<typeof setTimeout> | undefined;
  const off = api.onLog(() => {
    clearTimeout(t);
    t = setTimeout(() => {
      refreshLog();
      refreshTimeline();
    }, delay);
  });
  return () => {
    clearTimeout(t);
    off();
  };
}
