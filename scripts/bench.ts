// `npm run bench -- <name>...`: prints speed and memory figures. Benchmarks are scripts, not tests: they assert
// nothing and their numbers go into issue notes. Each lives in scripts/bench/<name>.ts and exports `run(args)`.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);

if (!name || name === '--help' || !available.includes(name)) {
  if (name && name !== '--help') console.error(`unknown benchmark "${name}"`);
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
const file = join(dir, `${name}.ts`);
if (!existsSync(file)) process.exit(2);
const mod = (await import(pathToFileURL(file).href)) as { run(args: string[]): Promise<void> };
await mod.run(args);
