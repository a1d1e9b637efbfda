import t from 'tap';
import { durationMs } from '../../engine/decision-contract.ts';
t.equal(durationMs('1h30m'), 5_400_000);
