import { PayloadError, args, bool, obj, str } from '../validate.ts';

export const appParsers = {
  info: args(),
  openExternal: args((v, p) => {
    const url = str({ max: 2048 })(v, p);
    // Only web links leave the app; file:, javascript: and custom schemes could run things on the user's machine.
    if (!/^https?:\/\//i.test(url)) throw new PayloadError(`${p} must be an http(s) link`);
    return url;
  }),
  providers: args(obj({ refresh: bool })),
};
