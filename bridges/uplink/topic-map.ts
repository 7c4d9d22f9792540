import { nodeRoot, topics, type TopicRoot } from '../../src/core/topics.js';

/**
 * The uplink's topics. The central broker sees every site's topics under the site's prefix:
 * `<base>/<node>/…` becomes `<topic_prefix>/<base>/<node>/…`, so one central subscription
 * (`sites/+/outpost/#`) covers a fleet and two sites can never write over each other.
 */

/** The uplink's own state on the local broker (retained JSON, see UplinkState). */
export function uplinkStateTopic(root: TopicRoot): string {
  return topics.uplink(root);
}

/** The prefix used when `uplink.topic_prefix` is not set. */
export function defaultTopicPrefix(node: string): string {
  return `sites/${node}`;
}

/** Why a prefix cannot be used; undefined when it can ('' maps topics unchanged). */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  if (prefix.startsWith('$')) return 'must not start with $ (reserved for the broker)';
  const levels = prefix.split('/');
  if (levels.some((l) => l === '')) return 'must not start or end with / or hold an empty level';
  if (levels.some((l) => /[+#\s]/.test(l))) return 'must not hold +, # or spaces';
  return undefined;
}

export class TopicMap {
  readonly root: TopicRoot;
  readonly prefix: string;
  readonly #own: string;
  readonly #commands: string;
  readonly #skipped: ReadonlySet<string>;

  constructor(root: TopicRoot, prefix: string) {
    const problem = prefixProblem(prefix);
    if (problem) throw new RangeError(`uplink topic prefix ${JSON.stringify(prefix)}: ${problem}`);
    this.root = root;
    this.prefix = prefix;
    this.#own = `${nodeRoot(root)}/`;
    this.#commands = `${nodeRoot(root)}/cmd/`;
    // Events travel through the store (durable, with ids); the availability upstream is the
    // uplink connection's own will, which a forwarded local `online` would contradict.
    this.#skipped = new Set([topics.events(root), topics.availability(root)]);
  }

  /** The upstream topic of one of this node's topics; throws for a topic outside it. */
  map(topic: string): string {
    if (!topic.startsWith(this.#own)) {
      throw new RangeError(`${topic} is not under ${this.#own}: the uplink maps only its own`);
    }
    return this.prefix === '' ? topic : `${this.prefix}/${topic}`;
  }

  get events(): string {
    return this.map(topics.events(this.root));
  }

  get availability(): string {
    return this.map(topics.availability(this.root));
  }

  /** What `forward_states` subscribes to locally. */
  get stateFilter(): string {
    return topics.nodeFilter(this.root);
  }

  /** Whether `forward_states` republishes this local topic: the node's retained states. */
  forwardsState(topic: string): boolean {
    return (
      topic.startsWith(this.#own) && !topic.startsWith(this.#commands) && !this.#skipped.has(topic)
    );
  }
}
