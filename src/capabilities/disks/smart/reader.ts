import { errorMessage } from '../../../core/errors.js';
import { isMissingProgram, runArgv } from '../../../hosts/run-argv.js';
import type { CommandRunner } from '../../../hosts/ssh-connection.js';
import {
  deviceProblem,
  parseReport,
  parseScan,
  parseScanText,
  type SmartDevice,
  type SmartDeviceReading,
} from './parse.js';
import { smartScript, splitSmartOutput } from './script.js';

/**
 * One SMART poll of one host: smartctl is not there (not an error: most hosts have none),
 * the poll failed as a whole, or each scanned device's health or error.
 */
export type SmartReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'devices'; readonly devices: readonly SmartDeviceReading[] };

export interface SmartReader {
  read(): Promise<SmartReading>;
}

/** A few reports of a few dozen KiB; anything near this is not one. */
const MAX_OUTPUT = 4 * 1024 * 1024;

/** This machine: `smartctl -j --scan`, then `smartctl -j -a -d <type> <dev>` per device, as argv. */
export class LocalSmartReader implements SmartReader {
  readonly #command: readonly string[];
  readonly #timeoutMs: number;

  constructor(command: readonly string[], timeoutMs: number) {
    this.#command = command;
    this.#timeoutMs = timeoutMs;
  }

  async read(): Promise<SmartReading> {
    const opts = { timeoutMs: this.#timeoutMs, maxOutputBytes: MAX_OUTPUT };
    let scanText: string;
    try {
      scanText = (await runArgv([...this.#command, '-j', '--scan'], opts)).stdout.toString();
    } catch (err) {
      if (isMissingProgram(err)) return { kind: 'absent' };
      return { kind: 'error', error: `${this.#command.join(' ')} --scan: ${errorMessage(err)}` };
    }
    const scanned = parseScan(scanText);
    if ('error' in scanned) return { kind: 'error', error: scanned.error };
    const devices: SmartDeviceReading[] = [];
    // One after another: smartctl wakes and queries each drive; a host is no hurry.
    for (const device of scanned) devices.push(await this.#device(device, opts));
    return { kind: 'devices', devices };
  }

  async #device(
    device: SmartDevice,
    opts: { timeoutMs: number; maxOutputBytes: number },
  ): Promise<SmartDeviceReading> {
    const problem = deviceProblem(device);
    if (problem) return { device, error: problem };
    const argv = [...this.#command, '-j', '-a', '-d', device.type, device.name];
    try {
      // smartctl's exit status is a bit mask that is non-zero for a failing disk: the
      // JSON says what happened, so every exit is read.
      return parseReport(device, (await runArgv(argv, opts)).stdout.toString());
    } catch (err) {
      return { device, error: `${device.name}: ${errorMessage(err)}` };
    }
  }
}

/** An SSH host: the fixed smartScript in one round trip over the host's connection. */
export class RemoteSmartReader implements SmartReader {
  readonly #runner: CommandRunner;
  readonly #script: string;
  readonly #timeoutMs: number;

  constructor(runner: CommandRunner, command: readonly string[], timeoutMs: number) {
    this.#runner = runner;
    this.#script = smartScript(command);
    this.#timeoutMs = timeoutMs;
  }

  async read(): Promise<SmartReading> {
    let text: string;
    try {
      const r = await this.#runner.exec(this.#script, {
        timeoutMs: this.#timeoutMs,
        maxOutputBytes: MAX_OUTPUT,
      });
      text = r.stdout.toString('utf8');
    } catch (err) {
      return { kind: 'error', error: errorMessage(err) };
    }
    return smartReadingOf(text);
  }
}

/** The reading the remote script's output gives. */
export function smartReadingOf(text: string): SmartReading {
  const out = splitSmartOutput(text);
  if ('error' in out) return { kind: 'error', error: out.error };
  if (out.absent) return { kind: 'absent' };
  const devices = parseScanText(out.scan).map((device): SmartDeviceReading => {
    const problem = deviceProblem(device);
    if (problem) return { device, error: problem };
    const report = out.reports.get(`${device.name} ${device.type}`);
    if (report === undefined) return { device, error: `${device.name}: no report in the output` };
    return parseReport(device, report);
  });
  return { kind: 'devices', devices };
}
