/**
 * The few Home Assistant card configs the dashboard uses, as plain data. Each builder sets
 * the keys its card requires (test/helpers/ha-rules/dashboard.ts checks them against the
 * frontend's own rules) and `grid_options` where the sections view's default size would
 * not line the cards up: a section is 12 columns wide, a row 56 px high.
 */

export type Card = Record<string, unknown>;

/** Disk levels as a gauge colours them: green from 0, yellow from warn, red from critical. */
export interface Severity {
  readonly green: number;
  readonly yellow: number;
  readonly red: number;
}

/** A section's title (`heading_style: title`) or a group inside it (`subtitle`). */
export function heading(text: string, icon?: string, style: 'title' | 'subtitle' = 'title'): Card {
  return { type: 'heading', heading: text, heading_style: style, ...(icon ? { icon } : {}) };
}

/** A tile: name, icon and state of one entity; `columns` of the section's 12. */
export function tile(entity: string, name: string, columns = 6): Card {
  return { type: 'tile', entity, name, grid_options: { columns, rows: 1 } };
}

/** A gauge from 0 to 100 % whose colour follows the levels. */
export function gauge(entity: string, name: string, severity: Severity): Card {
  return {
    type: 'gauge',
    entity,
    name,
    unit: '%',
    min: 0,
    max: 100,
    needle: true,
    severity: { green: severity.green, yellow: severity.yellow, red: severity.red },
    grid_options: { columns: 6, rows: 'auto' },
  };
}

/**
 * A button that presses a button entity, after a confirmation: a press is a command that
 * goes through outpost's policy and audit, and a stray tap on a phone should not send one.
 */
export function pressButton(
  entity: string,
  name: string,
  icon: string,
  confirm: string,
  columns = 3,
): Card {
  return {
    type: 'button',
    entity,
    name,
    icon,
    show_state: false,
    tap_action: {
      action: 'perform-action',
      perform_action: 'button.press',
      target: { entity_id: entity },
      confirmation: { text: confirm },
    },
    grid_options: { columns, rows: 1 },
  };
}

/**
 * The entities among `entities` whose state is `on`: with problem sensors, what is wrong
 * right now, each one an open incident. An empty list still shows the card and its title.
 */
export function onlyOn(entities: readonly string[], title: string): Card {
  return {
    type: 'entity-filter',
    entities: [...entities],
    state_filter: ['on'],
    show_empty: true,
    card: { type: 'entities', title },
    grid_options: { columns: 12, rows: 'auto' },
  };
}

/** A grid section: the sections view's only section type. */
export function section(cards: readonly Card[]): Card {
  return { type: 'grid', cards: [...cards] };
}
