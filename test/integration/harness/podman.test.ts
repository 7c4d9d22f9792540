import { startPodman } from '../../helpers/container-engines.js';
import { describeEngine } from './engine-contract.js';

describeEngine('startPodman', startPodman);
