// Colour only on a terminal, never when NO_COLOR is set or --no-color is given.

export interface Palette {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const COLOURS: Palette = { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
const identity = (text: string) => text;
export const PLAIN: Palette = { red: identity, green: identity, yellow: identity, bold: identity, dim: identity };

export function choosePalette(options: { interactive: boolean; env: NodeJS.ProcessEnv; noColor?: boolean }): Palette {
  if (options.noColor || (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') || !options.interactive) return PLAIN;
  return COLOURS;
}
