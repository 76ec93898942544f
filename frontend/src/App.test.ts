import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import App from './App.svelte';
import { fake } from './api/fake';
import { mkPending, tick } from './test/fixtures';

const server = (name: string) => ({ name, kind: 'stdio' as const, command: ['npx', name], url: '', trusted: false, pinned: true, pinMatches: true, fingerprint: 'f' });

describe('App', () => {
  it('shows the empty state with the server count', async () => {
    fake.state.servers = [server('github'), server('filesystem')];
    render(App);
    await tick();
    expect(screen.getByTestId('empty-state').textContent).toContain('Nothing is waiting.');
    expect(screen.getByTestId('empty-state').textContent).toContain('Airlock is watching 2 servers.');
    expect(screen.queryByTestId('pending-badge')).toBeNull();
  });

  it('has a nav for every view, Approvals first and current', async () => {
    render(App);
    await tick();
    for (const v of ['approvals', 'activity', 'servers', 'clients', 'secrets', 'policy', 'settings']) expect(screen.getByTestId(`nav-${v}`)).toBeTruthy();
    expect(screen.getByTestId('nav-approvals').getAttribute('aria-current')).toBe('page');
    await fireEvent.click(screen.getByTestId('nav-policy'));
    expect(screen.getByTestId('nav-policy').getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('heading', { name: 'Policy' })).toBeTruthy();
    await fireEvent.keyDown(screen.getByTestId('nav-policy'), { key: 'ArrowDown' });
    expect(screen.getByTestId('nav-settings').getAttribute('aria-current')).toBe('page');
  });

  it('badges the pending count, announces new requests and focuses the newest', async () => {
    fake.state.pending = [mkPending({ tool: 'old_tool' }, { id: 'old', ageMs: 10_000 })];
    render(App);
    await tick();
    await fireEvent.click(screen.getByTestId('nav-activity'));
    fake.emit({ type: 'pending', pending: [mkPending({ tool: 'new_tool' }, { id: 'new' })] });
    await tick();
    expect(screen.getByTestId('pending-badge').textContent).toBe('2');
    // A new request brings Approvals forward, newest first.
    expect(screen.getByTestId('approval-card').dataset.tool).toBe('new_tool');
    expect(screen.getByTestId('live').getAttribute('aria-live')).toBeTruthy();
    expect(screen.getByTestId('live').textContent).toContain('new_tool');
    expect(screen.getAllByTestId('queue-item').length).toBe(1);
    fake.emit({ type: 'decided', id: 'new', decision: { outcome: 'deny', decidedBy: 'timeout' } });
    await tick();
    expect(screen.getByTestId('pending-badge').textContent).toBe('1');
    expect(screen.getByTestId('approval-card').dataset.tool).toBe('old_tool');
  });

  it('does not swap out a card the person is reading', async () => {
    fake.state.pending = [mkPending({ tool: 'reading' }, { id: 'r' })];
    render(App);
    await tick();
    await fireEvent.pointerEnter(screen.getByTestId('approval-card'));
    fake.emit({ type: 'pending', pending: [mkPending({ tool: 'newer' }, { id: 'n' })] });
    await tick();
    expect(screen.getByTestId('approval-card').dataset.tool).toBe('reading');
    expect(screen.getByTestId('queue-item').textContent).toContain('newer');
  });

  it('shows a not-connected state outside Airlock', async () => {
    fake.state.connected = false;
    render(App);
    await tick();
    expect(screen.getByTestId('not-connected').textContent).toContain('Not connected to Airlock');
    expect(screen.getByTestId('connection').textContent).toContain('Not connected');
  });
});
