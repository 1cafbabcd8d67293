import { resolve } from 'node:path';
import { nodeFileSystem } from '../services/projects/file-system.ts';
import { ProjectError } from '../services/projects/project-errors.ts';
import { readProjectFile, summarizeProject } from '../services/projects/project-file.ts';
import { parseCommandArgs } from './args.ts';
import { CliError, UsageError, type CliCommand } from './command.ts';

const USAGE = `Usage: atelier project info FILE

Reads an .atelier project file, verifies it completely (checksums, schema, images) and prints a JSON summary:
format version, size, created/modified times, prompt and the number of inputs, results, history entries,
reflection sessions, reflection rounds and stored images.

Exit status: 0 for a sound project; 1 with a one-line reason for a missing, truncated, corrupt or newer-format file.
`;

export const projectCommand: CliCommand = {
  name: 'project',
  summary: 'inspect .atelier project files (atelier project info FILE)',
  usage: USAGE,
  async run(argv, ctx) {
    const { positionals } = parseCommandArgs('project', argv, {}, true);
    const [sub, file, ...extra] = positionals;
    if (sub !== 'info') throw new UsageError(`unknown subcommand "${sub ?? ''}"; usage: atelier project info FILE`);
    if (file === undefined || extra.length > 0)
      throw new UsageError('info takes exactly one FILE; usage: atelier project info FILE');
    const path = resolve(ctx.cwd, file);
    try {
      ctx.stdout(`${JSON.stringify(summarizeProject(path, await readProjectFile(nodeFileSystem, path)), null, 2)}\n`);
      return 0;
    } catch (e) {
      if (e instanceof ProjectError) throw new CliError(e.message);
      throw e;
    }
  },
};
