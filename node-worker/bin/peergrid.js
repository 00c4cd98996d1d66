#!/usr/bin/env node
// peergrid: submit jobs to a PeerGrid grid. Runs the TypeScript entry through tsx.
import { register } from 'tsx/esm/api';

register();
const { cliMain } = await import('../src/cli/main.ts');
// Exit explicitly: native WebRTC threads may otherwise keep the process alive.
process.exit(await cliMain(process.argv.slice(2)));
