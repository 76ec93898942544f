import { writable } from 'svelte/store';

export type Theme = 'system' | 'light' | 'dark';

function initial(): Theme {
  try {
    const t = localStorage.getItem('airlock.theme');
    if (t === 'light' || t === 'dark') return t;
  } catch {
    /* storage unavailable */
  }
  return 'system';
}

export const theme = writable<Theme>(initial());

theme.subscribe((t) => {
  if (typeof document === 'undefined') return;
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('airlock.theme', t);
  } catch {
    /* ignore */
  }
});
