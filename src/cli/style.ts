import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

/** A stream as far as colour goes: a terminal's `hasColors()` honours NO_COLOR, FORCE_COLOR and TERM=dumb. */
export interface ColourTarget {
  isTTY?: boolean;
  hasColors?: () => boolean;
}

/** Whether to colour text written to `target`: only a terminal that takes colours, and never under NO_COLOR. */
export function wantsColour(target: ColourTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return target.isTTY === true && (target.hasColors?.() ?? false);
}

/** `paint('green', 'ok')`: styled for a colour terminal, the plain text otherwise (pipes, files, NO_COLOR). */
export function painter(target: ColourTarget = process.stdout, env: NodeJS.ProcessEnv = process.env) {
  const on = wantsColour(target, env);
  // Decided here for the stream written to (not always stdout), so node's own check is off.
  return (format: Format, text: string): string =>
    on ? styleText(format, text, { validateStream: false }) : text;
}
