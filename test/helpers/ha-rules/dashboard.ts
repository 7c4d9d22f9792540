/**
 * A check of a dashboard config (what `outpost dashboard` prints) against the rules Home
 * Assistant's frontend applies when it loads one, each taken from the frontend's source
 * (home-assistant/frontend, cited per rule), plus one of outpost's own: every entity a card
 * names is in the live entity set. Violations read `<path>: <key>: <what is wrong>`.
 */

// src/common/entity/valid_entity_id.ts: `/^(\w+)\.(\w+)$/`.
const ENTITY_ID = /^\w+\.\w+$/;

// src/data/lovelace/config/action.ts (ActionConfig) and
// src/panels/lovelace/editor/structs/action-struct.ts: the actions a card may take.
const ACTIONS = new Set([
  'none',
  'toggle',
  'more-info',
  'call-service',
  'perform-action',
  'url',
  'navigate',
  'assist',
  'fire-dom-event',
]);

type Report = (key: string, message: string) => void;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every violation in the dashboard; `entities` is the live set its cards must name. */
export function validateDashboard(config: unknown, entities: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const at =
    (path: string): Report =>
    (key, message) =>
      out.push(`${path}: ${key}: ${message}`);
  if (!isObj(config) || !Array.isArray(config.views) || config.views.length === 0) {
    at('dashboard')('views', 'expected a list of views');
    return out;
  }
  config.views.forEach((view, v) => {
    const path = `views[${v}]`;
    if (!isObj(view)) return at(path)('view', 'expected a mapping');
    checkView(view, path, at, entities);
  });
  return out;
}

/**
 * src/data/lovelace/config/view.ts: a sections view has `type: sections`, its `sections`
 * (LovelaceSectionRawConfig) and `max_columns`; src/data/lovelace/config/section.ts and
 * src/panels/lovelace/sections/hui-grid-section.ts: a grid section holds `cards`.
 */
function checkView(view: Obj, path: string, at: (p: string) => Report, live: ReadonlySet<string>) {
  const report = at(path);
  if (view.type !== 'sections')
    report('type', `expected "sections", got ${JSON.stringify(view.type)}`);
  if (view.max_columns !== undefined && !isWhole(view.max_columns, 1, 100)) {
    report('max_columns', 'expected a positive whole number');
  }
  if (!Array.isArray(view.sections)) return report('sections', 'expected a list of sections');
  if (view.cards !== undefined) report('cards', 'a sections view holds its cards in sections');
  view.sections.forEach((s, i) => {
    const sp = `${path}.sections[${i}]`;
    if (!isObj(s)) return at(sp)('section', 'expected a mapping');
    if (s.type !== 'grid') at(sp)('type', `expected "grid", got ${JSON.stringify(s.type)}`);
    if (!Array.isArray(s.cards)) return at(sp)('cards', 'expected a list of cards');
    s.cards.forEach((c, j) => {
      const cp = `${sp}.cards[${j}]`;
      if (!isObj(c)) return at(cp)('card', 'expected a mapping');
      checkCard(c, at(`${cp} (${String(c.type)})`), live);
    });
  });
}

function checkCard(c: Obj, report: Report, live: ReadonlySet<string>): void {
  checkGridOptions(c.grid_options, report);
  const entity = (key: string, v: unknown, required: boolean) => {
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || !ENTITY_ID.test(v)) {
      return report(key, `expected an entity id such as sensor.x, got ${JSON.stringify(v)}`);
    }
    if (!live.has(v)) report(key, `${v} is not in the live entity set`);
  };
  switch (c.type) {
    // src/panels/lovelace/cards/hui-tile-card.ts, setConfig: "Specify an entity".
    case 'tile':
      return entity('entity', c.entity, true);
    // src/panels/lovelace/cards/hui-gauge-card.ts, setConfig: entity required and valid;
    // _computeSeverity: only green / yellow / red, each a number, all three (it sorts them
    // and reads three bands).
    case 'gauge':
      entity('entity', c.entity, true);
      if (typeof c.entity === 'string' && !c.entity.startsWith('sensor.')) {
        // hui-gauge-card-editor.ts: the entity selector takes counter, input_number, number, sensor.
        if (!/^(counter|input_number|number)\./.test(c.entity)) {
          report('entity', 'expected a numeric entity (sensor, number, counter, input_number)');
        }
      }
      for (const k of ['min', 'max'] as const) {
        if (c[k] !== undefined && typeof c[k] !== 'number') report(k, 'expected a number');
      }
      if (typeof c.min === 'number' && typeof c.max === 'number' && c.min >= c.max) {
        report('max', 'expected max above min');
      }
      if (c.severity !== undefined) checkSeverity(c.severity, report);
      return;
    // src/panels/lovelace/cards/hui-button-card.ts, setConfig: the entity is optional but
    // must be valid; without one only the tap action gives the button a use.
    case 'button':
      entity('entity', c.entity, false);
      if (c.entity === undefined && c.tap_action === undefined) {
        report('entity', 'expected an entity or a tap_action');
      }
      for (const k of ['tap_action', 'hold_action', 'double_tap_action']) {
        if (c[k] !== undefined) checkAction(c[k], k, report, live);
      }
      return;
    // src/panels/lovelace/cards/hui-heading-card.ts: heading_style title or subtitle (its
    // render's classes); outpost's headings always carry their text.
    case 'heading':
      if (typeof c.heading !== 'string' || c.heading === '') report('heading', 'expected a text');
      if (
        c.heading_style !== undefined &&
        !['title', 'subtitle'].includes(c.heading_style as string)
      ) {
        report('heading_style', 'expected "title" or "subtitle"');
      }
      return;
    // src/panels/lovelace/cards/hui-entities-card.ts, setConfig → processConfigEntities:
    // entities must be a list.
    case 'entities':
      if (!Array.isArray(c.entities)) return report('entities', 'expected a list of entities');
      return c.entities.forEach((e, i) => entity(`entities[${i}]`, isObj(e) ? e.entity : e, true));
    // src/panels/lovelace/cards/hui-entity-filter-card.ts, setConfig: entities a list, and
    // state_filter a list (or one on every entity).
    case 'entity-filter':
      if (!Array.isArray(c.entities)) return report('entities', 'expected a list of entities');
      c.entities.forEach((e, i) => entity(`entities[${i}]`, isObj(e) ? e.entity : e, true));
      if (!Array.isArray(c.state_filter)) report('state_filter', 'expected a list of states');
      if (c.card !== undefined && (!isObj(c.card) || typeof c.card.type !== 'string')) {
        report('card', 'expected a card config with a type');
      }
      return;
    // src/panels/lovelace/cards/hui-markdown-card.ts, setConfig: "Content Required".
    case 'markdown':
      if (typeof c.content !== 'string' || c.content === '') report('content', 'required');
      return;
    default:
      report('type', `not a card type this check knows: ${JSON.stringify(c.type)}`);
  }
}

function checkSeverity(s: unknown, report: Report): void {
  if (!isObj(s)) return report('severity', 'expected a mapping of green, yellow and red');
  for (const k of Object.keys(s)) {
    if (!['green', 'yellow', 'red'].includes(k)) report(`severity.${k}`, 'not a severity band');
  }
  for (const k of ['green', 'yellow', 'red']) {
    if (typeof s[k] !== 'number') report(`severity.${k}`, 'expected a number');
  }
}

/** src/data/lovelace/config/action.ts: `perform-action` names its action; confirmation's shape. */
function checkAction(a: unknown, key: string, report: Report, live: ReadonlySet<string>): void {
  if (!isObj(a) || typeof a.action !== 'string') return report(key, 'expected { action: ... }');
  if (!ACTIONS.has(a.action)) return report(`${key}.action`, `unknown action ${a.action}`);
  if (a.action === 'perform-action') {
    if (typeof a.perform_action !== 'string' || !/^\w+\.\w+$/.test(a.perform_action)) {
      report(`${key}.perform_action`, 'expected a domain.action such as button.press');
    }
    const target = isObj(a.target) ? a.target.entity_id : undefined;
    for (const id of [target].flat()) {
      if (id !== undefined && (typeof id !== 'string' || !live.has(id))) {
        report(`${key}.target.entity_id`, `${JSON.stringify(id)} is not in the live entity set`);
      }
    }
  }
  const conf = a.confirmation;
  if (conf !== undefined && typeof conf !== 'boolean') {
    if (!isObj(conf) || (conf.text !== undefined && typeof conf.text !== 'string')) {
      report(`${key}.confirmation`, 'expected true, false or { text }');
    }
  }
}

/** src/panels/lovelace/types.ts (LovelaceGridOptions): columns a number or "full", rows a number or "auto". */
function checkGridOptions(g: unknown, report: Report): void {
  if (g === undefined) return;
  if (!isObj(g)) return report('grid_options', 'expected a mapping');
  if (g.columns !== undefined && g.columns !== 'full' && !isWhole(g.columns, 1, 12)) {
    report('grid_options.columns', 'expected 1 to 12 or "full"');
  }
  if (g.rows !== undefined && g.rows !== 'auto' && !isWhole(g.rows, 1, 100)) {
    report('grid_options.rows', 'expected a whole number or "auto"');
  }
}

function isWhole(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
