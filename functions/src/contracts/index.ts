export * from './errors.ts';
export * from './http.ts';
export * from './kafka.ts';
export * from './limits.ts';
export * from './models.ts';
export * from './notifications.ts';
export * from './routes.ts';
export * from './ws.ts';
