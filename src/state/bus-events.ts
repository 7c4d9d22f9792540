import type { EventBus } from '../core/event-bus.js';
import type { NewEvent } from '../core/events.js';
import type { ContainerView } from './container-view.js';

/**
 * What modules tell each other over the agent's event bus (src/core/event-bus.ts). Every
 * cross-module wire is one of these: a capability announces, remediation, discovery and
 * the sinks listen. Adding a wire means adding it here, where all of them can be read.
 */
export interface AgentEvents {
  /**
   * A capability's state machine produced an event. Remediation hears it first (self-heal),
   * then it is recorded unless maintenance, a silence or a planned restart holds it back.
   */
  event: NewEvent;
  /**
   * What discovery describes may have changed (containers seen or gone, actions pending);
   * `complete` when a whole host was listed: only such a round may prune an entity.
   */
  observed: { readonly complete: boolean };
  /** A container's view changed, or it is gone (`view` undefined): self-heal, flaps. */
  container: {
    readonly host: string;
    readonly key: string;
    readonly view: ContainerView | undefined;
    /** The first view of it since the agent started. */
    readonly first: boolean;
  };
  /** The watchdog's uplink-class checks changed verdict: the uplink holds or resumes. */
  uplink: { readonly up: boolean };
  /**
   * A person decided a held action outside MQTT (the Home Assistant bridge: a Telegram
   * button, a phone notification's action): remediation decides it through its policy, as
   * `by`, and answers.
   */
  decision: {
    readonly actionId: string;
    readonly verdict: 'approve' | 'reject';
    /**
     * `telegram:<user id>`, `ha:<user id>` or `web:<user>` (the status page's token): from
     * the channel, never from a payload.
     */
    readonly by: string;
    answer(result: DecisionAnswer): void;
  };
  /**
   * An action of remediation started running or ended, after its decision was recorded:
   * the Home Assistant bridge hears a planned restart of HA's own container here.
   */
  action: ActionStep;
}

/** One step of an action on the bus (`action`). */
export interface ActionStep {
  readonly id: string;
  /** `restart_container`, `stop_container`, … */
  readonly action: string;
  readonly target: string;
  readonly status: 'running' | 'completed' | 'failed';
  /** Where it was asked from: `mqtt`, `api`, or `self_heal` (self-healing's own). */
  readonly origin: string;
  /** While running: the latest it can still be running (its deadline, epoch ms). */
  readonly until?: number;
}

/** Remediation's answer to a `decision`: `code` is the command error code when refused. */
export interface DecisionAnswer {
  readonly ok: boolean;
  readonly status?: string;
  readonly code?: string;
  readonly message: string;
}

/** The agent's bus. */
export type AgentBus = EventBus<AgentEvents>;
