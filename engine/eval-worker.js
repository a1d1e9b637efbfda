// Worker-thread entry: the evaluator sources are TypeScript, so register tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./eval-worker-main.ts');
