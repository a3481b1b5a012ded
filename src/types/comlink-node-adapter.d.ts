// Types for comlink's ESM node adapter: the package ships its .d.ts only beside the UMD build,
// whose CommonJS default export TypeScript cannot see; the ESM file is the one we import.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { MessagePort } from 'node:worker_threads';

  /** Adapts a worker_threads MessagePort to the web-style endpoint Comlink speaks. */
  export default function nodeEndpoint(endpoint: MessagePort): Endpoint;
}
