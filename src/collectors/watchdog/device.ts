import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Any byte but `V` keeps the timer from firing (Linux Documentation/watchdog/watchdog-api.rst). */
const PET = Buffer.from('.');
/** "Magic close": a `V` written just before closing disarms the timer on a clean stop. */
const MAGIC_CLOSE = Buffer.from('V');

/**
 * The hardware watchdog device. Opening it arms the timer; from then on the machine
 * reboots unless it is written to in time. Tests use a regular file in its place.
 */
export class WatchdogDevice {
  readonly path: string;
  readonly #file: FileHandle;

  private constructor(path: string, file: FileHandle) {
    this.path = path;
    this.#file = file;
  }

  /** Opens write-only and never creates: a missing device must not become a regular file. */
  static async open(path: string): Promise<WatchdogDevice> {
    return new WatchdogDevice(path, await open(path, constants.O_WRONLY));
  }

  async pet(): Promise<void> {
    await this.#file.write(PET);
  }

  /** Writes the magic close and closes; the device is closed even when the write fails. */
  async close(): Promise<void> {
    try {
      await this.#file.write(MAGIC_CLOSE);
    } finally {
      await this.#file.close();
    }
  }
}
