import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Grants from './Grants.svelte';
import { grants } from '../stores/pending';

describe('standing permissions', () => {
  it('lists grants and says what no grant covers', () => {
    grants.set([{ id: 'g1', kind: 'tool_call', server: 'sh', tool: 'run_command', scope: 'always', created: new Date().toISOString() }]);
    render(Grants);
    expect(screen.getByText('run_command')).toBeTruthy();
    const limits = screen.getByTestId('grants-limits');
    expect(limits.textContent).toContain('dangerous');
    expect(limits.textContent).toContain("Airlock's own");
  });
});
