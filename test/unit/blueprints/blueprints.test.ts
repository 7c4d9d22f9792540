import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, type ScalarTag } from 'yaml';
import { alertEventTemplate, ALERT_EVENT_TYPES } from '../../../discovery/entities/event-types.js';
import { actionEvent } from '../../../src/commands/remediation-events.js';
import type { ActionRecord } from '../../../src/commands/actions.js';
import { parseCommand } from '../../../src/commands/payloads.js';
import { EVENT_TYPES, SEVERITIES } from '../../../src/core/events.js';
import { topics } from '../../../src/core/topics.js';

/**
 * The Home Assistant blueprints in blueprints/automation/outpost/, read as HA reads them
 * (homeassistant/components/blueprint/schemas.py): a `blueprint:` with a name, the
 * automation domain and inputs whose selectors are real selector types; every `!input`
 * names a declared input and every input is used. Then what they rely on from outpost:
 * the Alerts entity's attributes, the pending event's fields, the command payload.
 */

const DIR = resolve(import.meta.dirname, '../../../blueprints/automation/outpost');

/** HA's selectors (home-assistant.io/docs/blueprint/selectors), by their YAML key. */
const SELECTORS = new Set(
  `action addon area attribute assist_pipeline backup_location boolean color_temp condition
  config_entry constant conversation_agent country date datetime device duration entity floor
  icon label language location media number object qr_code color_rgb select state target
  template text theme time trigger`.split(/\s+/),
);

class InputRef {
  constructor(readonly name: string) {}
}
const inputTag: ScalarTag = {
  tag: '!input',
  identify: (v) => v instanceof InputRef,
  resolve: (name) => new InputRef(name),
};

interface Input {
  name?: string;
  description?: string;
  default?: unknown;
  selector?: Record<string, unknown>;
}
interface Blueprint {
  blueprint: {
    name?: string;
    description?: string;
    domain?: string;
    input?: Record<string, Input>;
  };
  [key: string]: unknown;
}

function load(file: string): { bp: Blueprint; text: string } {
  const text = readFileSync(join(DIR, file), 'utf8');
  return { bp: parse(text, { customTags: [inputTag] }) as Blueprint, text };
}

function refs(value: unknown, out: string[] = []): string[] {
  if (value instanceof InputRef) out.push(value.name);
  else if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) refs(v, out);
  }
  return out;
}

const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

it('ships both blueprints', () => {
  expect(FILES.sort()).toEqual(['approve_action.yaml', 'notify_alert.yaml']);
});

describe('the !input tag', () => {
  it('is read as a reference wherever it stands', () => {
    const v = parse('a: !input x\nb: [!input y]\n', { customTags: [inputTag] }) as unknown;
    expect(refs(v)).toEqual(['x', 'y']);
  });
});

describe.each(FILES)('blueprints/automation/outpost/%s', (file) => {
  const { bp } = load(file);
  const inputs = bp.blueprint.input ?? {};

  it('is an automation blueprint with a name, a description and inputs', () => {
    expect(bp.blueprint.name).toMatch(/^outpost — /);
    expect(bp.blueprint.domain).toBe('automation');
    expect(bp.blueprint.description?.length).toBeGreaterThan(40);
    expect(Object.keys(inputs).length).toBeGreaterThan(0);
  });

  it('gives every input a name and exactly one real selector', () => {
    for (const [key, input] of Object.entries(inputs)) {
      expect(input.name, `${key}.name`).toBeTruthy();
      const types = Object.keys(input.selector ?? {});
      expect(types, `${key}.selector`).toHaveLength(1);
      expect(SELECTORS.has(types[0]!), `${key}: selector ${types[0]}`).toBe(true);
    }
  });

  it('uses every input, and every !input names a declared one', () => {
    const { blueprint: _header, ...body } = bp;
    const used = refs(body);
    for (const name of used) expect(Object.keys(inputs), `!input ${name}`).toContain(name);
    for (const name of Object.keys(inputs)) expect(used, `input ${name} is used`).toContain(name);
  });

  it('has a trigger and an action', () => {
    expect(Array.isArray(bp.trigger) && bp.trigger.length > 0).toBe(true);
    expect(Array.isArray(bp.action) && bp.action.length > 0).toBe(true);
  });
});

describe('notify_alert.yaml', () => {
  const { bp, text } = load('notify_alert.yaml');
  const inputs = bp.blueprint.input!;

  it('filters on outpost severities, and reads only attributes the Alerts entity has', () => {
    const options = (
      inputs.min_severity!.selector!.select as { options: { value: string }[] }
    ).options.map((o) => o.value);
    for (const o of options) expect(SEVERITIES).toContain(o);
    expect(options).toContain(inputs.min_severity!.default);
    const ranks = (bp.variables as { ranks: Record<string, number> }).ranks;
    expect(Object.keys(ranks)).toEqual([...SEVERITIES]);
    // The keys the entity's value template renders become the event's attributes.
    const template = alertEventTemplate(ALERT_EVENT_TYPES);
    const attributes = [...template.matchAll(/'(\w+)': /g)].map((m) => m[1]);
    const read = [...text.matchAll(/attributes\.(\w+)/g)].map((m) => m[1]);
    expect(read).toEqual(expect.arrayContaining(['message', 'title', 'severity']));
    for (const a of read) expect(attributes, `attribute ${a}`).toContain(a);
  });

  it('counts exactly the recoveries among outpost event types', () => {
    const pattern = /search\('([^']+)'\)/.exec(text)?.[1];
    const re = new RegExp(pattern!);
    expect(EVENT_TYPES.filter((t) => re.test(t)).sort()).toEqual(
      [
        'container_recovered',
        'container_settled',
        'disk_recovered',
        'host_reachable',
        'uplink_restored',
        'watchdog_recovered',
      ].filter((t) => (EVENT_TYPES as readonly string[]).includes(t)),
    );
  });
});

describe('approve_action.yaml', () => {
  const { bp, text } = load('approve_action.yaml');
  const inputs = bp.blueprint.input!;
  const trigger = (bp.trigger as Record<string, unknown>[])[0]!;

  it("listens on outpost's events topic for remediation_pending", () => {
    expect(trigger.platform).toBe('mqtt');
    expect(trigger.payload).toBe('remediation_pending');
    expect(EVENT_TYPES).toContain(trigger.payload);
    expect(inputs.events_topic!.default).toBe(topics.events({ base: 'outpost', node: '+' }));
  });

  it('reads fields the pending event carries', () => {
    const rec = {
      id: '01J00000000000000000000000',
      action: 'restart',
      target: 'local/db',
      status: 'pending',
      origin: 'mqtt',
      requested_by: 'homeassistant',
      decision: { code: 'approval_required', message: 'held for approval' },
      history: [],
    } as unknown as ActionRecord;
    const data = actionEvent('remediation_pending', rec, true, 0).data!;
    const read = [...new Set([...text.matchAll(/event\.data\.(\w+)/g)].map((m) => m[1]!))];
    expect(read).toEqual(expect.arrayContaining(['action_id', 'title', 'message']));
    for (const k of read) expect(Object.keys(data), `data.${k}`).toContain(k);
    expect(data.action_id).toBe(rec.id);
  });

  it('publishes {"target": <action id>} on cmd/approve or cmd/reject of the node that asked, which the router accepts', () => {
    const publish = (bp.action as Record<string, unknown>[]).find(
      (a) => a.action === 'mqtt.publish',
    ) as { data: { topic: string; payload: string } };
    expect(publish.data.payload).toBe("{{ {'target': action_id} | tojson }}");
    const root = { base: 'outpost', node: 'edge-01' };
    for (const verb of ['approve', 'reject'] as const) {
      expect(publish.data.topic).toContain(`'/${verb}'`);
      expect(topics.command(root, verb)).toBe(
        `${topics.events(root).slice(0, -'/events'.length)}/cmd/${verb}`,
      );
      // What tojson renders for the template above.
      const parsed = parseCommand(verb, JSON.stringify({ target: '01J00000000000000000000000' }));
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    }
    expect(text).toContain('cmd_root: "{{ trigger.topic[:-(\'/events\' | length)] }}/cmd"');
  });
});
