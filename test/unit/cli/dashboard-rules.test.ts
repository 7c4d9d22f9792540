import { describe, expect, it } from 'vitest';
import { validateDashboard } from '../../helpers/ha-rules/dashboard.js';

/** The dashboard check catches each mistake it is there for (an honest check can fail). */
const LIVE = new Set(['sensor.used', 'button.restart', 'binary_sensor.problem']);

function board(cards: unknown[], view: Record<string, unknown> = {}) {
  return {
    views: [{ type: 'sections', max_columns: 4, sections: [{ type: 'grid', cards }], ...view }],
  };
}

const at = (type: string) => `views[0].sections[0].cards[0] (${type})`;

describe('the Home Assistant dashboard rules', () => {
  it('passes well-formed cards of every type it knows', () => {
    const good = board([
      { type: 'heading', heading: 'nas', heading_style: 'title' },
      { type: 'tile', entity: 'sensor.used', grid_options: { columns: 6, rows: 1 } },
      {
        type: 'gauge',
        entity: 'sensor.used',
        min: 0,
        max: 100,
        severity: { green: 0, yellow: 85, red: 95 },
      },
      {
        type: 'button',
        entity: 'button.restart',
        tap_action: {
          action: 'perform-action',
          perform_action: 'button.press',
          target: { entity_id: 'button.restart' },
          confirmation: { text: 'Sure?' },
        },
      },
      { type: 'button', tap_action: { action: 'navigate', navigation_path: '/x' } },
      { type: 'entities', entities: ['sensor.used', { entity: 'button.restart' }] },
      {
        type: 'entity-filter',
        entities: ['binary_sensor.problem'],
        state_filter: ['on'],
        card: { type: 'entities' },
      },
      { type: 'markdown', content: 'hello' },
    ]);
    expect(validateDashboard(good, LIVE)).toEqual([]);
  });

  it.each([
    [{ type: 'tile' }, 'tile', 'entity: expected an entity id such as sensor.x, got undefined'],
    [
      { type: 'tile', entity: 'sensor.gone' },
      'tile',
      'entity: sensor.gone is not in the live entity set',
    ],
    [
      { type: 'tile', entity: 'not an id' },
      'tile',
      'entity: expected an entity id such as sensor.x, got "not an id"',
    ],
    [{ type: 'gauge' }, 'gauge', 'entity: expected an entity id such as sensor.x, got undefined'],
    [
      { type: 'gauge', entity: 'button.restart' },
      'gauge',
      'entity: expected a numeric entity (sensor, number, counter, input_number)',
    ],
    [
      { type: 'gauge', entity: 'sensor.used', severity: { green: 0, yellow: 85 } },
      'gauge',
      'severity.red: expected a number',
    ],
    [
      {
        type: 'gauge',
        entity: 'sensor.used',
        severity: { green: 0, yellow: 85, red: 95, blue: 1 },
      },
      'gauge',
      'severity.blue: not a severity band',
    ],
    [
      { type: 'gauge', entity: 'sensor.used', min: 100, max: 0 },
      'gauge',
      'max: expected max above min',
    ],
    [{ type: 'button' }, 'button', 'entity: expected an entity or a tap_action'],
    [
      { type: 'button', tap_action: { action: 'perform-action' } },
      'button',
      'tap_action.perform_action: expected a domain.action such as button.press',
    ],
    [
      { type: 'button', tap_action: { action: 'explode' } },
      'button',
      'tap_action.action: unknown action explode',
    ],
    [
      { type: 'button', tap_action: { action: 'more-info', confirmation: 'yes' } },
      'button',
      'tap_action.confirmation: expected true, false or { text }',
    ],
    [{ type: 'heading' }, 'heading', 'heading: expected a text'],
    [
      { type: 'heading', heading: 'x', heading_style: 'huge' },
      'heading',
      'heading_style: expected "title" or "subtitle"',
    ],
    [{ type: 'entities' }, 'entities', 'entities: expected a list of entities'],
    [
      { type: 'entity-filter', entities: ['binary_sensor.problem'] },
      'entity-filter',
      'state_filter: expected a list of states',
    ],
    [{ type: 'markdown' }, 'markdown', 'content: required'],
    [{ type: 'picture' }, 'picture', 'type: not a card type this check knows: "picture"'],
    [
      { type: 'tile', entity: 'sensor.used', grid_options: { columns: 13 } },
      'tile',
      'grid_options.columns: expected 1 to 12 or "full"',
    ],
  ])('reports %j', (card, type, message) => {
    expect(validateDashboard(board([card]), LIVE)).toEqual([`${at(type)}: ${message}`]);
  });

  it('checks the view and its sections', () => {
    expect(validateDashboard({}, LIVE)).toEqual(['dashboard: views: expected a list of views']);
    expect(validateDashboard(board([], { type: 'masonry' }), LIVE)).toEqual([
      'views[0]: type: expected "sections", got "masonry"',
    ]);
    const noCards = { views: [{ type: 'sections', sections: [{ type: 'grid' }] }] };
    expect(validateDashboard(noCards, LIVE)).toEqual([
      'views[0].sections[0]: cards: expected a list of cards',
    ]);
    const otherType = { views: [{ type: 'sections', sections: [{ type: 'stack', cards: [] }] }] };
    expect(validateDashboard(otherType, LIVE)).toEqual([
      'views[0].sections[0]: type: expected "grid", got "stack"',
    ]);
  });
});
