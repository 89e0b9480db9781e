// Entry of a filter worker thread. Loader hooks registered in the main thread (tsx's `register()`, as
// bin/zads.js does) do not reach workers, so TypeScript support is registered here, then the worker
// proper — TypeScript like the rest of the code — is loaded.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
