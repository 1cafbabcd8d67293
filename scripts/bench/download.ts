// `npm run bench -- download [--size-mb N] [--rounds N] [--connections N] [--cap-mbps N]`: Atelier's model downloader
// (one connection and N ranged ones) against curl, on a local imitation of the hub served uncapped and capped per
// connection; the measurement lives beside the fake hub's server entry in scripts/bench-download.ts.
export { run } from '../bench-download.ts';
