// The approval queue, built from the airlock:event stream.
import { derived, get, writable } from 'svelte/store';
import * as api from '$api';
import type { AirlockEvent, Grant, Outcome, Pending, Scope } from '$api';
import { errText } from '../format';
import { visibleString } from '../text';
import { announce } from './announce';

/** Waiting requests, oldest first. */
export const pending = writable<Pending[]>([]);
export const grants = writable<Grant[]>([]);
export const pendingCount = derived(pending, (p) => p.length);

const byCreated = (a: Pending, b: Pending) =>
  new Date(a.created).getTime() - new Date(b.created).getTime();

export function describe(p: Pending): string {
  const r = p.request;
  const who = visibleString(r.server || 'unknown server');
  switch (r.kind) {
    case 'launch': return `start server ${who}`;
    case 'elicitation': return `open a link for ${who}`;
    case 'oauth': return `sign in for ${who}`;
    default: return `call ${visibleString(r.tool || '?')} on ${who}`;
  }
}

export function applyEvent(ev: AirlockEvent) {
  switch (ev.type) {
    case 'snapshot':
      pending.set([...(ev.pending ?? [])].sort(byCreated));
      if (ev.grants) grants.set(ev.grants);
      break;
    case 'pending': {
      const add = ev.pending ?? [];
      if (add.length === 0) break;
      pending.update((list) => {
        const ids = new Set(list.map((p) => p.id));
        return [...list, ...add.filter((p) => !ids.has(p.id))].sort(byCreated);
      });
      for (const p of add) announce(`New request: ${describe(p)}.`, 'warn');
      break;
    }
    case 'decided':
    case 'withdrawn': {
      const gone = get(pending).find((p) => p.id === ev.id);
      pending.update((list) => list.filter((p) => p.id !== ev.id));
      if (gone && ev.type === 'withdrawn') announce(`Withdrawn: ${describe(gone)} — the agent stopped waiting.`);
      else if (gone && ev.decision?.decidedBy === 'timeout') announce(`Timed out: ${describe(gone)} was denied.`);
      else if (gone && ev.decision && ev.decision.channel && ev.decision.channel !== 'app')
        announce(`Decided elsewhere (${ev.decision.channel}): ${describe(gone)}.`);
      break;
    }
    case 'grants':
      grants.set(ev.grants ?? []);
      break;
  }
}

/** Subscribe to the event stream and load the current queue. Returns the unsubscriber. */
export function startEvents(): () => void {
  const off = api.onEvent(applyEvent);
  if (api.connected()) {
    api.pending().then((list) => {
      pending.update((cur) => {
        const ids = new Set(cur.map((p) => p.id));
        return [...cur, ...list.filter((p) => !ids.has(p.id))].sort(byCreated);
      });
    }).catch(() => {});
    api.grants().then((g) => grants.set(g)).catch(() => {});
  }
  return off;
}

export interface DecideResult {
  ok: boolean;
  error?: string;
}

export async function decide(p: Pending, outcome: Outcome, scope: Scope, reason = ''): Promise<DecideResult> {
  try {
    await api.decide(p.id, outcome, scope, reason.trim());
    pending.update((list) => list.filter((x) => x.id !== p.id));
    const verb = outcome === 'deny' ? 'Denied' : scope === 'once' ? 'Allowed once' : scope === 'session' ? 'Allowed for this session' : 'Always allowed';
    announce(`${verb}: ${describe(p)}.`, outcome === 'deny' ? 'info' : 'ok');
    return { ok: true };
  } catch (e) {
    // The request may be gone (decided elsewhere, timed out, withdrawn): drop the card
    // unless the broker still lists it.
    let still = false;
    try {
      still = (await api.pending()).some((x) => x.id === p.id);
    } catch {
      still = false;
    }
    if (!still) {
      pending.update((list) => list.filter((x) => x.id !== p.id));
      announce(`This request is no longer waiting (${errText(e)}).`, 'warn');
    }
    return { ok: false, error: errText(e) };
  }
}

export async function revokeGrant(id: string): Promise<DecideResult> {
  try {
    await api.revoke(id);
    grants.update((g) => g.filter((x) => x.id !== id));
    return { ok: true };
  } catch (e) {
    return { ok: false, error: errText(e) };
  }
}
