import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A static export (S3 + CloudFront, or local/web-server.ts): no server at run time. The endpoints come
 * from `/config.json`, fetched by the browser, so one build serves every environment.
 */
const nextConfig: NextConfig = {
  output: 'export',
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  // The wire contracts live in the functions workspace as TypeScript with `.ts` extension imports.
  transpilePackages: ['@chat/functions'],
  turbopack: { root: path.join(here, '..') },
};

export default nextConfig;
