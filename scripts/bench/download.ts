// `npm run bench -- download [--size-mb N] [--rounds N]`: Atelier's model downloader against curl on one local
// imitation of the hub; the measurement lives beside the fake hub's server entry in scripts/bench-download.ts.
export { run } from '../bench-download.ts';
