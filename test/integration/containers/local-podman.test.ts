import { startPodman } from '../../helpers/container-engines.js';
import { describeEngineCollector } from './engine-suite.js';

describeEngineCollector('local engine API: podman (Docker-compatible)', startPodman);
