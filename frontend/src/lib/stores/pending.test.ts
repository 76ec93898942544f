import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { applyEvent, decide, pending, pendingCount, grants, startEvents } from './pending';
import { announcement } from './announce';
import { fake } from '../../api/fake';
import { mkPending, tick } from '../../test/fixtures';

describe('pending queue from the event stream', () => {
  it('snapshot replaces, pending adds (deduplicated, oldest first), decided and withdrawn remove', () => {
    const a = mkPending({}, { id: 'a', ageMs: 5000 });
    const b = mkPending({}, { id: 'b', ageMs: 1000 });
    applyEvent({ type: 'snapshot', time: '', pending: [b, a] });
    expect(get(pending).map((p) => p.id)).toEqual(['a', 'b']);
    const c = mkPending({ tool: 'delete_file' }, { id: 'c' });
    applyEvent({ type: 'pending', time: '', pending: [c] });
    applyEvent({ type: 'pending', time: '', pending: [c] });
    expect(get(pending).map((p) => p.id)).toEqual(['a', 'b', 'c']);
    expect(get(pendingCount)).toBe(3);
    expect(get(announcement)?.text).toContain('delete_file');
    applyEvent({ type: 'decided', time: '', id: 'a', decision: { outcome: 'allow', decidedBy: 'user', channel: 'cli' } });
    applyEvent({ type: 'withdrawn', time: '', id: 'b' });
    expect(get(pending).map((p) => p.id)).toEqual(['c']);
    applyEvent({ type: 'snapshot', time: '', pending: [] });
    expect(get(pendingCount)).toBe(0);
  });

  it('grants events replace the grant list', () => {
    applyEvent({ type: 'grants', time: '', grants: [{ id: 'g1', kind: 'tool_call', server: 's', tool: 't', scope: 'session', created: '' }] });
    expect(get(grants).length).toBe(1);
    applyEvent({ type: 'grants', time: '', grants: null });
    expect(get(grants).length).toBe(0);
  });

  it('startEvents loads the queue and follows the stream', async () => {
    pending.set([]);
    fake.state.pending = [mkPending({}, { id: 'x' })];
    const off = startEvents();
    await tick();
    expect(get(pending).map((p) => p.id)).toEqual(['x']);
    fake.emit({ type: 'pending', pending: [mkPending({}, { id: 'y' })] });
    expect(get(pending).map((p) => p.id)).toEqual(['x', 'y']);
    off();
  });

  it('a failed decide on a request that is gone drops the card', async () => {
    const p = mkPending({}, { id: 'gone' });
    pending.set([p]);
    fake.state.pending = [];
    fake.state.decideError = 'no pending request gone';
    const r = await decide(p, 'allow', 'once');
    expect(r.ok).toBe(false);
    expect(get(pending)).toEqual([]);
  });

  it('a failed decide keeps the card if the broker still lists it', async () => {
    const p = mkPending({}, { id: 'still' });
    pending.set([p]);
    fake.state.pending = [p];
    fake.state.decideError = 'temporary failure';
    const r = await decide(p, 'deny', 'once', 'no');
    expect(r.ok).toBe(false);
    expect(get(pending).map((x) => x.id)).toEqual(['still']);
  });
});
