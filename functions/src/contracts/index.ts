export * from './emoji.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './kafka.ts';
export * from './limits.ts';
export * from './models.ts';
export * from './routes.ts';
export * from './ws.ts';
