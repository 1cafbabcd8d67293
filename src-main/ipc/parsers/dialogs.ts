import { args, str } from '../validate.ts';

export const dialogsParsers = {
  saveProjectPath: args(str({ max: 255 })),
  openProjectPath: args(),
  pickFolder: args(),
};
