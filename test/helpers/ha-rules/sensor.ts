import { parseEnumGuard } from './enum-state.js';
import {
  NON_NUMERIC_SENSOR_CLASSES,
  SENSOR_DEVICE_CLASS_UNITS,
  STATE_CLASSES,
} from './vocabulary.js';

type Report = (key: string, message: string) => void;

const PERCENT_SPELLINGS = new Set(['percent', 'pct', '%%', 'per cent']);

/**
 * Sensor rules: device class, unit and state class must fit together (HA_DOCS.sensorClasses,
 * HA_DOCS.stateClasses, and the option checks in homeassistant/components/mqtt/sensor.py).
 */
export function validateSensor(p: Record<string, unknown>, report: Report): void {
  const dc = p.device_class;
  const unit = p.unit_of_measurement;
  const sc = p.state_class;
  if (
    dc !== undefined &&
    dc !== null &&
    (typeof dc !== 'string' || !(dc in SENSOR_DEVICE_CLASS_UNITS))
  ) {
    report('device_class', 'not a sensor device class');
    return;
  }
  if (unit !== undefined && (typeof unit !== 'string' || unit.trim() === '')) {
    report('unit_of_measurement', 'expected a non-empty string');
  }
  if (typeof unit === 'string' && PERCENT_SPELLINGS.has(unit.toLowerCase())) {
    report('unit_of_measurement', 'a percentage has unit "%"');
  }
  if (sc !== undefined && (typeof sc !== 'string' || !STATE_CLASSES.has(sc))) {
    report('state_class', 'expected measurement, measurement_angle, total or total_increasing');
  }
  if (typeof dc === 'string') checkDeviceClassUnit(dc, unit, sc, report);
  checkOptions(p, dc, unit, sc, report);
  if (p.last_reset_value_template !== undefined && sc !== 'total') {
    report('last_reset_value_template', 'only with state_class total');
  }
  const precision = p.suggested_display_precision;
  if (precision !== undefined && (!Number.isInteger(precision) || (precision as number) < 0)) {
    report('suggested_display_precision', 'expected a whole number ≥ 0');
  }
}

function checkDeviceClassUnit(dc: string, unit: unknown, sc: unknown, report: Report): void {
  const units = SENSOR_DEVICE_CLASS_UNITS[dc];
  if (NON_NUMERIC_SENSOR_CLASSES.has(dc)) {
    // timestamp, date and enum states are not numbers: no unit, no statistics.
    if (unit !== undefined) report('unit_of_measurement', `not allowed with device_class ${dc}`);
    if (sc !== undefined) report('state_class', `not allowed with device_class ${dc}`);
    return;
  }
  if (units === null && unit !== undefined) {
    report('unit_of_measurement', `device_class ${dc} is unitless`);
  }
  if (units && units.length > 0) {
    if (unit === undefined) report('unit_of_measurement', `required for device_class ${dc}`);
    else if (typeof unit === 'string' && !units.includes(unit)) {
      report(
        'unit_of_measurement',
        `${JSON.stringify(unit)} is not a unit of ${dc} (${units.join(', ')})`,
      );
    }
  }
}

function checkOptions(
  p: Record<string, unknown>,
  dc: unknown,
  unit: unknown,
  sc: unknown,
  report: Report,
): void {
  const options = p.options;
  if (dc === 'enum' && options === undefined) report('options', 'required with device_class enum');
  if (options === undefined) return;
  if (
    !Array.isArray(options) ||
    options.length === 0 ||
    !options.every((o) => typeof o === 'string')
  ) {
    report('options', 'expected a non-empty list of strings');
  }
  if (dc !== 'enum') report('options', 'only with device_class enum');
  if (unit !== undefined || sc !== undefined) {
    report('options', 'not allowed with unit_of_measurement or state_class');
  }
  if (dc === 'enum' && Array.isArray(options)) checkEnumGuard(p.value_template, options, report);
}

/** HA drops a state outside `options`: the template must keep every state inside them. */
function checkEnumGuard(template: unknown, options: readonly unknown[], report: Report): void {
  const guard = parseEnumGuard(template);
  if (!guard) {
    report('value_template', 'an enum sensor must map every state onto its options (enumTemplate)');
    return;
  }
  const listed = JSON.stringify(options);
  if (JSON.stringify(guard.options) !== listed) {
    report(
      'value_template',
      `lets ${JSON.stringify(guard.options)} through, options are ${listed}`,
    );
  }
  if (guard.fallback !== null && !options.includes(guard.fallback)) {
    report('value_template', `falls back to ${JSON.stringify(guard.fallback)}, not an option`);
  }
}
