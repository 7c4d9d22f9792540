import { startDockerd } from '../../helpers/container-engines.js';
import { describeEngineCollector } from './engine-suite.js';

describeEngineCollector('local engine API: dockerd', startDockerd);
