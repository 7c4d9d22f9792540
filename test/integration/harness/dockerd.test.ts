import { startDockerd } from '../../helpers/container-engines.js';
import { describeEngine } from './engine-contract.js';

describeEngine('startDockerd', startDockerd);
