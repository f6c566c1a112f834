/** Split a list into chunks of at most `size` (e.g. CQL `IN` lists, which Keyspaces caps at 100 values). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
