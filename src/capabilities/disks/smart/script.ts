import { shJoin, shQuote } from '../../../hosts/shell-quote.js';

/** Every marker line of the SMART report starts with this; smartctl's JSON never does. */
export const SMART_MARKER = '@@outpost-smart:';

/**
 * The one command the agent runs on an SSH host to read SMART (issue #16), one round trip.
 * Fixed text: the only words put into it are the configured smartctl command, each
 * quoted. The device list comes from `smartctl --scan` on the host; each name and type is
 * checked in the script against the characters DEVICE_NAME allows and only then passed
 * to smartctl as separate words ("$dev", never pasted into a command line). `set -f`: no
 * globbing. One line, so it survives any login shell as the argument of `sh -c`.
 *
 * Output: `absent` when the command is not there; else `scan` and the scan text, then per
 * device `device <name> <type>` and its JSON, or `refused` for a name that failed the
 * check; `end` says the report is whole.
 */
export function smartScript(command: readonly string[]): string {
  const m = (s: string) => shQuote(`${SMART_MARKER}${s}`);
  const script =
    `set -f; LC_ALL=C; export LC_ALL; set -- ${shJoin(command)}; ` +
    `if ! command -v "$1" >/dev/null 2>&1; then echo ${m('absent')}; exit 0; fi; ` +
    `scan=$("$@" --scan 2>/dev/null); echo ${m('scan')}; printf '%s\\n' "$scan"; ` +
    `printf '%s\\n' "$scan" | while read -r dev flag type rest; do ` +
    `case $dev in /dev/?*) ;; *) continue;; esac; ` +
    `[ "$flag" = -d ] || type=auto; ` +
    `case "$dev$type" in *[!A-Za-z0-9/_.:,+-]*|*..*) echo ${m('refused')}; continue;; esac; ` +
    `printf '%s%s %s\\n' ${m('device ')} "$dev" "$type"; ` +
    `"$@" -j -a -d "$type" "$dev" 2>/dev/null; echo; ` +
    `done; echo ${m('end')}`;
  return `sh -c ${shQuote(script)}`;
}

/** The script's output, split: absent, or the scan and each device's raw report. */
export type SmartScriptOutput =
  | { readonly absent: true }
  | {
      readonly absent: false;
      readonly scan: string;
      readonly reports: ReadonlyMap<string, string>;
      readonly refused: number;
    }
  | { readonly error: string };

export function splitSmartOutput(text: string): SmartScriptOutput {
  let scan: string[] | undefined;
  const reports = new Map<string, string[]>();
  let current: string[] | undefined;
  let refused = 0;
  let ended = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(SMART_MARKER)) {
      current?.push(line);
      continue;
    }
    const word = line.slice(SMART_MARKER.length);
    if (word === 'absent') return { absent: true };
    if (word === 'end') {
      ended = true;
      break;
    }
    if (word === 'scan') current = scan = [];
    else if (word === 'refused') {
      refused++;
      current = undefined;
    } else if (word.startsWith('device ')) {
      current = [];
      reports.set(word.slice('device '.length), current);
    } else current = undefined;
  }
  if (!ended) return { error: 'the SMART report ended early (no end marker): output truncated' };
  if (!scan) return { error: 'the SMART report has no device scan' };
  const joined = new Map([...reports].map(([k, v]) => [k, v.join('\n')]));
  return { absent: false, scan: scan.join('\n'), reports: joined, refused };
}
