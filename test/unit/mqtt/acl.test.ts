import { describe, expect, it } from 'vitest';
import { aclRules, filterCovers, mayPublish, maySubscribe } from '../../../src/mqtt/acl.js';

const rules = aclRules('outpost', 'edge', 'homeassistant');

describe('embedded broker ACL', () => {
  it('lets the agent publish anywhere', () => {
    expect(
      mayPublish(rules, { agent: true, user: 'outpost-agent' }, 'homeassistant/sensor/x/config'),
    ).toBe(true);
  });

  it('keeps the agent topics to the agent, but for commands and HA birth', () => {
    const anon = { agent: false, user: 'anonymous' };
    expect(mayPublish(rules, anon, 'outpost/edge/availability')).toBe(false);
    expect(mayPublish(rules, anon, 'homeassistant/sensor/outpost_edge/x/config')).toBe(false);
    expect(mayPublish(rules, anon, 'outpost/edge/cmd/restart_container')).toBe(true);
    expect(mayPublish(rules, anon, 'outpost/other/cmd/restart_container')).toBe(false);
    expect(mayPublish(rules, anon, 'outpost/edge/cmd/restart_container/result')).toBe(false);
    expect(mayPublish(rules, anon, 'homeassistant/status')).toBe(true);
    expect(mayPublish(rules, anon, 'zigbee2mqtt/bridge/state')).toBe(true);
    expect(mayPublish(rules, anon, '$SYS/x')).toBe(false);
  });

  it('uses a user allowlist in place of the default one', () => {
    const z2m = { agent: false, user: 'u', publish: ['homeassistant/#'] };
    expect(mayPublish(rules, z2m, 'homeassistant/light/0x1/light/config')).toBe(true);
    expect(mayPublish(rules, z2m, 'outpost/edge/cmd/restart_container')).toBe(false);
  });

  it('restricts subscriptions only when a list is given', () => {
    expect(maySubscribe({ agent: false, user: 'anonymous' }, '#')).toBe(true);
    const u = { agent: false, user: 'u', subscribe: ['outpost/+/availability', 'zigbee2mqtt/#'] };
    expect(maySubscribe(u, 'outpost/edge/availability')).toBe(true);
    expect(maySubscribe(u, 'zigbee2mqtt/bridge/+')).toBe(true);
    expect(maySubscribe(u, 'outpost/#')).toBe(false);
    expect(maySubscribe(u, '#')).toBe(false);
  });

  it('decides filter coverage level by level', () => {
    expect(filterCovers('a/#', 'a/+/c')).toBe(true);
    expect(filterCovers('a/+', 'a/b')).toBe(true);
    expect(filterCovers('a/+', 'a/#')).toBe(false);
    expect(filterCovers('a/b', 'a/+')).toBe(false);
    expect(filterCovers('a/+/c', 'a/b/c/d')).toBe(false);
  });
});
