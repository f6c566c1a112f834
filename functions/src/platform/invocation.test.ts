import { afterEach, expect, it } from 'vitest';
import { beginInvocation, invocationDeadline } from './invocation.ts';

afterEach(() => beginInvocation(undefined));

it("keeps a fifth of the invocation's remaining time (at least 0.5 s) back from waits", () => {
  const before = Date.now();
  beginInvocation({ getRemainingTimeInMillis: () => 5_000 });
  // A 5 s function (wsTyping): its waits end 4 s after it starts, before Lambda would stop it.
  expect(invocationDeadline() - before).toBeGreaterThanOrEqual(4_000);
  expect(invocationDeadline() - Date.now()).toBeLessThanOrEqual(4_000);
  beginInvocation({ getRemainingTimeInMillis: () => 1_000 });
  expect(invocationDeadline() - Date.now()).toBeLessThanOrEqual(500);
});

it('has no budget outside an invocation', () => {
  beginInvocation(undefined);
  expect(invocationDeadline()).toBe(Number.POSITIVE_INFINITY);
});

it('is a whole number of milliseconds (AbortSignal.timeout refuses a fraction)', () => {
  beginInvocation({ getRemainingTimeInMillis: () => 9_999 });
  expect(Number.isInteger(invocationDeadline())).toBe(true);
});
