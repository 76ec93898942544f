import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import ClientsView from './ClientsView.svelte';
import { fake } from '../../api/fake';
import { tick } from '../../test/fixtures';
import type { ClientFile } from '../../api/types';

const HOSTILE = '<img src=x onerror=alert(1)>';
const CURSOR = '/home/u/.cursor/mcp.json';

function fixture(): ClientFile[] {
  return [
    {
      client: 'cursor', ide: 'Cursor', scope: 'user', path: CURSOR, error: '', installed: false,
      entries: [
        { name: HOSTILE, project: '', transport: 'stdio', protected: false, via: '', problem: '' },
        { name: 'fs', project: '', transport: 'stdio', protected: true, via: 'airlock run fs', problem: '' },
        { name: 'local', project: '', transport: 'stdio', protected: false, via: '', problem: 'its args use ${…} variables that only the IDE expands; left as is' },
      ],
    },
    {
      client: 'vscode', ide: 'VS Code', scope: 'project', path: '/work/p/.vscode/mcp.json', installed: false,
      error: '/work/p/.vscode/mcp.json:3: invalid character', entries: [],
    },
  ];
}

const panels = () => screen.getAllByTestId('client-file');
const statuses = (panel: HTMLElement) => within(panel).getAllByTestId('entry-status').map((s) => s.textContent?.trim());

describe('Clients', () => {
  it('lists each file with its servers, their status in words, and why an entry is left alone', async () => {
    fake.state.clients = fixture();
    render(ClientsView);
    await tick();
    const [cursor, vscode] = panels();
    expect(panels().length).toBe(2);
    expect(cursor.querySelector('h2')!.textContent).toBe('Cursor');
    expect(cursor.textContent).toContain('user settings');
    expect(within(cursor).getByTestId('client-path').textContent).toBe(CURSOR);
    expect(within(cursor).getByTestId('client-summary').textContent).toBe('1 of 3 servers protected');
    expect(statuses(cursor)).toEqual(['⚠ Not protected', '✓ Protected', '⚠ Not protected']);
    expect(cursor.textContent).toContain('via airlock run fs');
    expect(within(cursor).getByTestId('entry-problem').textContent).toContain('Left alone: its args use ${…} variables');
    // A server name is text, never markup.
    expect(within(cursor).getAllByTestId('client-entry')[0].textContent).toContain(HOSTILE);
    expect(document.querySelector('img')).toBeNull();
    expect(within(vscode).getByTestId('client-error').textContent).toContain(':3: invalid character');
    expect((within(vscode).getByTestId('client-protect') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId('client-restore')).toBeNull();
    expect(screen.getByRole('button', { name: `Protect Cursor ${CURSOR}` })).toBeTruthy();
  });

  it('says when no IDE settings exist', async () => {
    render(ClientsView);
    await tick();
    expect(screen.getByTestId('no-clients').textContent).toContain('No IDE MCP settings found');
  });

  it('previews the change as plain text and writes nothing', async () => {
    fake.state.clients = fixture();
    fake.state.previews[CURSOR] = `--- ${CURSOR}\n+++ ${CURSOR} (after airlock install)\n@@ -1,3 +1,3 @@\n-    "${HOSTILE}": {"command": "npx"}\n+    "${HOSTILE}": {"command": "/usr/bin/airlock", "args": ["run", "img"]}\n`;
    render(ClientsView);
    await tick();
    const btn = within(panels()[0]).getByTestId('client-preview-btn');
    await fireEvent.click(btn);
    await tick();
    expect(fake.callsTo('PreviewProtect')).toEqual([['cursor', CURSOR]]);
    expect(btn.getAttribute('aria-expanded')).toBe('true');
    const pre = screen.getByTestId('client-preview');
    expect(pre.textContent).toContain(`-    "${HOSTILE}": {"command": "npx"}`);
    expect(pre.querySelectorAll('li.diff-del').length).toBe(1);
    expect(pre.querySelectorAll('li.diff-add').length).toBe(1);
    expect(document.querySelector('img')).toBeNull();
    expect(fake.callsTo('Protect')).toEqual([]);
    await fireEvent.click(btn);
    expect(screen.queryByTestId('client-preview')).toBeNull();
  });

  it('protects after a confirmation showing the diff, then shows what changed and the restart hint', async () => {
    fake.state.clients = fixture();
    render(ClientsView);
    await tick();
    await fireEvent.click(within(panels()[0]).getByTestId('client-protect'));
    await tick();
    const confirm = screen.getByTestId('client-confirm');
    expect(confirm.textContent).toContain('Protect 1 server of Cursor?');
    expect(within(confirm).getByTestId('client-preview').textContent).toContain(`+    "${HOSTILE}"`);
    expect(document.activeElement?.textContent).toBe('Protect 1 server of Cursor?');
    expect(fake.callsTo('Protect')).toEqual([]);
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('client-confirm')).toBeNull();

    await fireEvent.click(within(panels()[0]).getByTestId('client-protect'));
    await tick();
    await fireEvent.click(screen.getByTestId('confirm-protect'));
    await tick();
    expect(fake.callsTo('Protect')).toEqual([['cursor', CURSOR]]);
    const cursor = panels()[0];
    expect(statuses(cursor)).toEqual(['✓ Protected', '✓ Protected', '⚠ Not protected']);
    const result = within(cursor).getByTestId('client-result');
    expect(result.textContent).toContain('Protected 1 server');
    expect(result.textContent).toContain(`${HOSTILE} → airlock run ${HOSTILE}`);
    expect(result.textContent).toContain('local: its args use');
    expect(result.textContent).toContain(`Backup: ${CURSOR}.airlock-backup`);
    expect(within(cursor).getByTestId('restart-hint').textContent).toContain('Restart Cursor to apply the change.');
    expect(within(cursor).getByTestId('client-restore')).toBeTruthy();
    expect((within(cursor).getByTestId('client-protect') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('client-result').getAttribute('role')).toBe('status');
    expect(document.querySelector('img')).toBeNull();
  });

  it('shows a refused change as an error and keeps the file as it was', async () => {
    fake.state.clients = fixture();
    render(ClientsView);
    await tick();
    fake.state.clientError = `${CURSOR} is not a cursor config file that Airlock lists`;
    await fireEvent.click(within(panels()[0]).getByTestId('client-protect'));
    await tick();
    expect(screen.getByTestId('client-action-error').textContent).toContain('not a cursor config file');
    expect(screen.queryByTestId('client-confirm')).toBeNull();
    expect(fake.callsTo('Protect')).toEqual([]);
  });

  it('offers Restore only for installed files; credentials come back only after a second confirmation', async () => {
    fake.state.clients = fixture();
    fake.state.clientSecrets = [HOSTILE];
    render(ClientsView);
    await tick();
    expect(screen.queryByTestId('client-restore')).toBeNull();
    await fireEvent.click(within(panels()[0]).getByTestId('client-protect'));
    await tick();
    await fireEvent.click(screen.getByTestId('confirm-protect'));
    await tick();
    expect(screen.getAllByTestId('client-restore').length).toBe(1);
    expect(screen.getByTestId('client-result').textContent).toContain(`credentials moved to the keychain as ${HOSTILE}.TOKEN`);

    await fireEvent.click(screen.getByRole('button', { name: `Restore Cursor ${CURSOR}` }));
    await tick();
    expect(fake.callsTo('Restore')).toEqual([['cursor', CURSOR]]);
    expect(screen.getByTestId('client-kept').textContent).toContain(`Still behind Airlock: ${HOSTILE}`);
    expect(screen.queryByTestId('restart-hint')).toBeNull();
    expect(screen.getByTestId('client-restore')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('client-restore-secrets'));
    expect(fake.callsTo('RestoreWithSecrets')).toEqual([]);
    await fireEvent.click(screen.getByTestId('confirm-restore-secrets'));
    await tick();
    expect(fake.callsTo('RestoreWithSecrets')).toEqual([['cursor', CURSOR]]);
    const cursor = panels()[0];
    expect(statuses(cursor)).toEqual(['⚠ Not protected', '✓ Protected', '⚠ Not protected']);
    expect(within(cursor).getByTestId('client-result').textContent).toContain('The file is back to its original bytes.');
    expect(within(cursor).getByTestId('restart-hint').textContent).toContain('Restart Cursor to apply the change.');
    expect(screen.queryByTestId('client-restore')).toBeNull();
    expect(document.querySelector('img')).toBeNull();
  });
});
