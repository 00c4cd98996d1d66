import { createMemoryJobStore } from '../../src/store/memory-store.ts';
import { runJobStoreCompliance } from './compliance.ts';

runJobStoreCompliance('memory', async () => createMemoryJobStore());
