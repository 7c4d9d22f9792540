import { HA_DOCS, type Platform } from './ha-vocabulary.js';

/** What kind of value an entity shows; each kind maps to one row of METADATA. */
export type ValueKind =
  | 'running'
  | 'problem'
  | 'connectivity'
  | 'percent'
  | 'bytes'
  | 'timestamp'
  | 'count'
  | 'duration_s'
  | 'duration_h'
  | 'temperature'
  | 'run_state'
  | 'health'
  | 'level'
  | 'status'
  | 'button_restart'
  | 'button_run'
  | 'maintenance_switch'
  | 'silence_switch'
  | 'event_alert'
  | 'choice';

export type EntityCategory = 'config' | 'diagnostic';

/** How Home Assistant should present one kind of value. */
export interface KindMetadata {
  readonly platform: Platform;
  readonly device_class?: string;
  readonly unit_of_measurement?: string;
  readonly state_class?: 'measurement' | 'total' | 'total_increasing';
  readonly entity_category?: EntityCategory;
  /** Only where the device class gives no icon (or there is no device class). */
  readonly icon?: string;
  /** The HA doc page the row follows. */
  readonly doc: string;
}

/**
 * The table (STYLE.md §4). Rows without a device class name their icon; rows with one
 * leave the icon to HA so the on/off icons keep working.
 */
export const METADATA: Readonly<Record<ValueKind, KindMetadata>> = {
  running: { platform: 'binary_sensor', device_class: 'running', doc: HA_DOCS.binarySensorClasses },
  problem: { platform: 'binary_sensor', device_class: 'problem', doc: HA_DOCS.binarySensorClasses },
  connectivity: {
    platform: 'binary_sensor',
    device_class: 'connectivity',
    doc: HA_DOCS.binarySensorClasses,
  },
  // No device class fits a generic percentage (battery/humidity/moisture are specific):
  // a plain sensor with unit '%' and state class measurement keeps long-term statistics.
  percent: {
    platform: 'sensor',
    unit_of_measurement: '%',
    state_class: 'measurement',
    icon: 'mdi:percent',
    doc: HA_DOCS.stateClasses,
  },
  bytes: {
    platform: 'sensor',
    device_class: 'data_size',
    unit_of_measurement: 'B',
    state_class: 'measurement',
    doc: HA_DOCS.sensorClasses,
  },
  // A timestamp sensor takes an ISO 8601 string with time zone and never a unit or state class.
  timestamp: { platform: 'sensor', device_class: 'timestamp', doc: HA_DOCS.sensorClasses },
  count: {
    platform: 'sensor',
    state_class: 'measurement',
    icon: 'mdi:counter',
    doc: HA_DOCS.stateClasses,
  },
  duration_s: {
    platform: 'sensor',
    device_class: 'duration',
    unit_of_measurement: 's',
    state_class: 'measurement',
    doc: HA_DOCS.sensorClasses,
  },
  // Hours where seconds would read oddly (a drive's power-on time: years of it).
  duration_h: {
    platform: 'sensor',
    device_class: 'duration',
    unit_of_measurement: 'h',
    state_class: 'measurement',
    doc: HA_DOCS.sensorClasses,
  },
  temperature: {
    platform: 'sensor',
    device_class: 'temperature',
    unit_of_measurement: '°C',
    state_class: 'measurement',
    doc: HA_DOCS.sensorClasses,
  },
  // `enum` needs `options` and forbids unit and state class (HA sensor.mqtt validation); it
  // gives HA state triggers and colours per value, which free text cannot (issue #14).
  run_state: {
    platform: 'sensor',
    device_class: 'enum',
    icon: 'mdi:state-machine',
    doc: HA_DOCS.sensorClasses,
  },
  health: {
    platform: 'sensor',
    device_class: 'enum',
    icon: 'mdi:heart-pulse',
    doc: HA_DOCS.sensorClasses,
  },
  level: {
    platform: 'sensor',
    device_class: 'enum',
    icon: 'mdi:gauge',
    doc: HA_DOCS.sensorClasses,
  },
  status: {
    platform: 'sensor',
    device_class: 'enum',
    icon: 'mdi:list-status',
    doc: HA_DOCS.sensorClasses,
  },
  button_restart: { platform: 'button', device_class: 'restart', doc: HA_DOCS.buttonMqtt },
  button_run: { platform: 'button', icon: 'mdi:play', doc: HA_DOCS.buttonMqtt },
  maintenance_switch: {
    platform: 'switch',
    device_class: 'switch',
    entity_category: 'config',
    icon: 'mdi:wrench',
    doc: HA_DOCS.switchMqtt,
  },
  silence_switch: {
    platform: 'switch',
    device_class: 'switch',
    entity_category: 'config',
    icon: 'mdi:bell-off',
    doc: HA_DOCS.switchMqtt,
  },
  event_alert: { platform: 'event', icon: 'mdi:alert-circle', doc: HA_DOCS.eventMqtt },
  // `options` is required and lists every value the state may take (HA select.mqtt).
  choice: { platform: 'select', icon: 'mdi:format-list-checks', doc: HA_DOCS.selectMqtt },
};
