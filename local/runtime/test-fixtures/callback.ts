/** Test fixture: a callback-style handler (refused at init by the Node.js 24 runtime). */
export const handler = (
  _event: unknown,
  _context: unknown,
  callback: (err: unknown, value?: unknown) => void,
): void => {
  setTimeout(() => callback(null, 'called back'), 10);
};
