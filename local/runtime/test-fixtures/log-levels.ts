/** Test fixture: a structured INFO and WARN line (as the functions' logger writes them) and a console.log. */
export const handler = async () => {
  process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'routine batch line' })}\n`);
  process.stdout.write(`${JSON.stringify({ level: 'WARN', message: 'worth a look' })}\n`);
  console.log('a developer debugging');
  return { ok: true };
};
