/** Test fixture: fails its first two invocations in an environment, then succeeds; returns what it was given. */
let calls = 0;

export const handler = async (event: unknown) => {
  calls += 1;
  if (calls <= 2) throw new Error(`flaky failure ${calls}`);
  return { calls, event };
};
