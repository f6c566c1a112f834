/**
 * glibc's malloc settings for a process that hosts the local runtime (`npm start`'s, the bench's).
 *
 * glibc returns a large block (above `M_MMAP_THRESHOLD`, 128 KiB by default) to the system when it is freed, and
 * gives back the free memory at the top of a heap once it exceeds `M_TRIM_THRESHOLD` (128 KiB). But the
 * thresholds are dynamic: each time such a block up to 32 MiB is freed, the mmap threshold rises to its size and
 * the trim threshold to twice that, for the rest of the process's life: after a freed block of n MiB (a bundle
 * read at start, a Kafka fetch), blocks up to n MiB come from the heap and up to 2n MiB of freed memory stay
 * resident in every arena (n ≤ 32). Setting either threshold turns the adjustment off.
 * Measured (docs/benchmarks.md, issue 13, seventh pass): malloc's main heap held 82 MB at the end of the bench's
 * idle phase with the defaults and 3–31 MB with these (7 runs), for the same CPU per message.
 *
 * The variables must be in the environment when the process starts: the root `package.json` sets them for
 * `npm start` (checked by `malloc.test.ts`) and the bench's runtime host gets them from `bench/src/runtime.ts`.
 * Other C libraries (macOS, musl) ignore them. On AWS every function has its own sandbox and memory size; these
 * are not set there.
 */
export const RUNTIME_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
