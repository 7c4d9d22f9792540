import { topicMatches } from '../core/topics.js';

/**
 * Who may publish and subscribe where on the embedded broker. Pure functions, small
 * hooks in the spirit of aedes' authorizePublish / authorizeSubscribe.
 *
 * The agent owns `<base>/#` and `<discovery_prefix>/#`: other clients may publish there
 * only to what their allowlist names (by default the command topics and Home
 * Assistant's birth topic). Topics outside those prefixes (zigbee2mqtt/#, …) are open,
 * so the broker still serves the rest of the site.
 */
export interface AclRules {
  /** Filters the agent alone may publish to, except where an allowlist says otherwise. */
  owned: string[];
  /** Allowlist inside owned topics for clients without their own `publish` list. */
  defaultPublish: string[];
}

export interface ClientIdentity {
  agent: boolean;
  /** The user name the connection logged in with; `anonymous` without one. */
  user: string;
  publish?: readonly string[];
  subscribe?: readonly string[];
}

export function aclRules(base: string, node: string, discoveryPrefix: string): AclRules {
  return {
    owned: [`${base}/#`, `${discoveryPrefix}/#`],
    defaultPublish: [
      `${base}/${node}/cmd/+`,
      `${discoveryPrefix}/status`,
      // Backup reports (issue #17): a script on the site says how its backup went.
      `${base}/${node}/backups/+/report`,
    ],
  };
}

export function mayPublish(rules: AclRules, who: ClientIdentity, topic: string): boolean {
  if (who.agent) return true;
  if (topic.startsWith('$')) return false; // §4.7.2: $-topics are the server's
  if (!rules.owned.some((f) => topicMatches(f, topic))) return true;
  const allow = who.publish ?? rules.defaultPublish;
  return allow.some((f) => topicMatches(f, topic));
}

export function maySubscribe(who: ClientIdentity, filter: string): boolean {
  if (who.agent || who.subscribe === undefined) return true;
  return who.subscribe.some((allowed) => filterCovers(allowed, filter));
}

/** True when every topic `requested` can match is also matched by `allowed`. */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    const al = a[i];
    if (al === '#') return true;
    const rl = r[i];
    if (rl === undefined || rl === '#') return false;
    if (al === '+') continue;
    if (rl === '+' || al !== rl) return false;
  }
  return a.length === r.length;
}
