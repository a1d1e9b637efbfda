// `airlock start` as one module for bin/airlock.js to bundle: main.ts with the start command given
// to it directly (a bundle cannot follow main.ts's discovery of the files in commands/).
import { main as run } from './main.ts';
import { register } from './commands/start.ts';

export const main = (argv: string[]): Promise<number> => run(argv, [register]);
