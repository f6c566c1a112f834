/** Test fixture: the module fails while loading (an init error). */
const config = process.env.FIXTURE_INIT_OK;
if (config !== 'yes') throw new Error('missing configuration at init');

export const handler = async () => 'initialized';
