/**
 * The rest of Home Assistant's vocabulary for the platforms outpost uses (the part the
 * metadata table is written in stays in discovery/ha-vocabulary.ts): what the rules check
 * device classes, units and state classes against.
 */

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
