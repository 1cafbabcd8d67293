import { chatCommand } from './chat-command.ts';
import type { CliCommand } from './command.ts';
import { estimateCommand } from './estimate-command.ts';
import { generateCommand } from './generate-command.ts';
import { modelsCommand } from './models-command.ts';
import { projectCommand } from './project-command.ts';
import { reflectCommand } from './reflect-command.ts';

/** Every `atelier <command>`, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [
  generateCommand,
  modelsCommand,
  projectCommand,
  chatCommand,
  reflectCommand,
  estimateCommand,
];
