/// <reference lib="webworker" />
/** One ORT Web Worker: the pool talks to it over comlink; it is killed when a task overruns. */
import { expose } from 'comlink';
import { createOrtHost } from './ort-host.ts';

expose(createOrtHost());
