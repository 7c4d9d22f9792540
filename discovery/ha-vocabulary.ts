/**
 * Home Assistant's vocabulary for the platforms outpost uses, kept as data so the
 * metadata table and the validator (ha-rules.ts) read the same lists.
 */

export const HA_DOCS = {
  discovery: 'https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery',
  deviceDiscovery: 'https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload',
  availability: 'https://www.home-assistant.io/integrations/mqtt/#using-availability-topics',
  birth: 'https://www.home-assistant.io/integrations/mqtt/#birth-and-last-will-messages',
  sensorClasses: 'https://www.home-assistant.io/integrations/sensor/#device-class',
  stateClasses:
    'https://developers.home-assistant.io/docs/core/entity/sensor/#available-state-classes',
  binarySensorClasses: 'https://www.home-assistant.io/integrations/binary_sensor/#device-class',
  sensorMqtt: 'https://www.home-assistant.io/integrations/sensor.mqtt/',
  binarySensorMqtt: 'https://www.home-assistant.io/integrations/binary_sensor.mqtt/',
  buttonMqtt: 'https://www.home-assistant.io/integrations/button.mqtt/',
  switchMqtt: 'https://www.home-assistant.io/integrations/switch.mqtt/',
  eventMqtt: 'https://www.home-assistant.io/integrations/event.mqtt/',
  entityCategory: 'https://developers.home-assistant.io/docs/core/entity/#generic-properties',
  // HA 2025.10 deprecates `object_id` in favour of `default_entity_id` (removed in 2026.4):
  // https://github.com/SAIC-iSmart-API/saic-python-mqtt-gateway/issues/376 quotes the repair.
  defaultEntityId: 'https://www.home-assistant.io/integrations/mqtt/#naming-of-mqtt-entities',
} as const;

/** The MQTT platforms outpost publishes. */
export const PLATFORMS = ['sensor', 'binary_sensor', 'button', 'switch', 'event'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Every component HA's MQTT discovery accepts in a topic (for validating foreign configs). */
export const HA_COMPONENTS: ReadonlySet<string> = new Set([
  'alarm_control_panel',
  'binary_sensor',
  'button',
  'camera',
  'climate',
  'cover',
  'device_automation',
  'device_tracker',
  'event',
  'fan',
  'humidifier',
  'image',
  'lawn_mower',
  'light',
  'lock',
  'notify',
  'number',
  'scene',
  'select',
  'sensor',
  'siren',
  'switch',
  'tag',
  'text',
  'update',
  'vacuum',
  'valve',
  'water_heater',
]);

/**
 * Sensor device classes and the units each accepts (`null` = no unit allowed; an empty
 * list = any unit). Source: HA_DOCS.sensorClasses.
 */
export const SENSOR_DEVICE_CLASS_UNITS: Readonly<Record<string, readonly string[] | null>> = {
  apparent_power: ['VA'],
  aqi: null,
  area: ['m²', 'cm²', 'km²', 'mm²', 'in²', 'ft²', 'yd²', 'mi²', 'ac', 'ha'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  battery: ['%'],
  blood_glucose_concentration: ['mg/dL', 'mmol/L'],
  carbon_dioxide: ['ppm'],
  carbon_monoxide: ['ppm'],
  current: ['A', 'mA'],
  data_rate: [
    'bit/s',
    'kbit/s',
    'Mbit/s',
    'Gbit/s',
    'B/s',
    'kB/s',
    'MB/s',
    'GB/s',
    'KiB/s',
    'MiB/s',
    'GiB/s',
  ],
  data_size: [
    'bit',
    'kbit',
    'Mbit',
    'Gbit',
    'B',
    'kB',
    'MB',
    'GB',
    'TB',
    'PB',
    'EB',
    'ZB',
    'YB',
    'KiB',
    'MiB',
    'GiB',
    'TiB',
    'PiB',
    'EiB',
    'ZiB',
    'YiB',
  ],
  date: null,
  distance: ['km', 'm', 'cm', 'mm', 'mi', 'nmi', 'yd', 'in'],
  duration: ['d', 'h', 'min', 's', 'ms'],
  energy: [],
  energy_storage: [],
  enum: null,
  frequency: ['Hz', 'kHz', 'MHz', 'GHz'],
  gas: [],
  humidity: ['%'],
  illuminance: ['lx'],
  irradiance: [],
  moisture: ['%'],
  monetary: [],
  nitrogen_dioxide: ['µg/m³'],
  nitrogen_monoxide: ['µg/m³'],
  nitrous_oxide: ['µg/m³'],
  ozone: ['µg/m³'],
  ph: null,
  pm1: ['µg/m³'],
  pm25: ['µg/m³'],
  pm10: ['µg/m³'],
  power_factor: ['%'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW'],
  precipitation: ['cm', 'in', 'mm'],
  precipitation_intensity: ['in/d', 'in/h', 'mm/d', 'mm/h'],
  pressure: ['Pa', 'kPa', 'hPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi'],
  reactive_power: ['var'],
  signal_strength: ['dB', 'dBm'],
  sound_pressure: ['dB', 'dBA'],
  speed: [],
  sulphur_dioxide: ['µg/m³'],
  temperature: ['°C', '°F', 'K'],
  timestamp: null,
  volatile_organic_compounds: ['µg/m³'],
  volatile_organic_compounds_parts: ['ppm', 'ppb'],
  voltage: ['V', 'mV', 'µV', 'kV', 'MV'],
  volume: [],
  volume_flow_rate: [],
  volume_storage: [],
  water: [],
  weight: [],
  wind_speed: [],
};

/** Sensor device classes whose state is not a number: no state class, no unit. */
export const NON_NUMERIC_SENSOR_CLASSES: ReadonlySet<string> = new Set([
  'date',
  'enum',
  'timestamp',
]);

export const STATE_CLASSES: ReadonlySet<string> = new Set([
  'measurement',
  'measurement_angle',
  'total',
  'total_increasing',
]);

export const BINARY_SENSOR_DEVICE_CLASSES: ReadonlySet<string> = new Set([
  'battery',
  'battery_charging',
  'carbon_monoxide',
  'cold',
  'connectivity',
  'door',
  'garage_door',
  'gas',
  'heat',
  'light',
  'lock',
  'moisture',
  'motion',
  'moving',
  'occupancy',
  'opening',
  'plug',
  'power',
  'presence',
  'problem',
  'running',
  'safety',
  'smoke',
  'sound',
  'tamper',
  'update',
  'vibration',
  'window',
]);

export const BUTTON_DEVICE_CLASSES: ReadonlySet<string> = new Set([
  'identify',
  'restart',
  'update',
]);
export const SWITCH_DEVICE_CLASSES: ReadonlySet<string> = new Set(['outlet', 'switch']);
export const EVENT_DEVICE_CLASSES: ReadonlySet<string> = new Set(['button', 'doorbell', 'motion']);

export const ENTITY_CATEGORIES: ReadonlySet<string> = new Set(['config', 'diagnostic']);
export const AVAILABILITY_MODES: ReadonlySet<string> = new Set(['all', 'any', 'latest']);
