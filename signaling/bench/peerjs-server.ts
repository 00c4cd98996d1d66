/** The baseline: the stock PeerJS server (npm `peer`) on the given port. */
import { PeerServer } from 'peer';

const port = Number(process.argv[2]);
PeerServer(
  { port, host: '127.0.0.1', path: '/', alive_timeout: 600_000, concurrent_limit: 100_000 },
  () => process.stdout.write(`listening on ${port}\n`),
);
