import { afterEach, beforeEach } from 'vitest';
import { cleanup } from '@testing-library/svelte';
import { fake } from '../api/fake';
import { uiConfig } from '../lib/config';
import { grants, pending } from '../lib/stores/pending';
import { announcement } from '../lib/stores/announce';

beforeEach(() => {
  fake.reset();
  uiConfig.armDelayMs = 0;
  pending.set([]);
  grants.set([]);
  announcement.set(null);
});
afterEach(() => cleanup());
