/** Test fixture: succeeds and returns nothing (used for `$disconnect`). */
export const handler = async () => ({ statusCode: 200 });
