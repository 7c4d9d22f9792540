/**
 * Just enough of Dockerfile and .dockerignore semantics to check docker/ without a Docker
 * engine: instructions with continuation lines joined and ARG defaults substituted into
 * FROM, stages split on FROM, and moby/patternmatcher's "last matching pattern wins, a
 * pattern matching a parent directory matches everything below it".
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  op: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  name: string | undefined;
  /** The FROM image or stage, with ARG defaults substituted. */
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === undefined && (line === '' || line.startsWith('#'))) return;
    if (pending !== undefined && line.startsWith('#')) return; // comments inside a continuation
    const cont = line.endsWith('\\');
    const body = cont ? line.slice(0, -1).trim() : line;
    if (pending === undefined) pending = { parts: [], line: i + 1 };
    if (body !== '') pending.parts.push(body);
    if (cont) return;
    const joined = pending.parts.join(' ');
    const m = /^(\S+)\s*(.*)$/.exec(joined);
    if (m) instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: pending.line });
    pending = undefined;
  });

  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'ARG' && stages.length === 0) {
      const [k, v] = ins.args.split('=', 2);
      args.set(k!.trim(), (v ?? '').trim());
    } else if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      const from = m[1]!.replace(/\$\{?(\w+)\}?/g, (_s, name: string) => args.get(name) ?? '');
      stages.push({ name: m[2], from, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`line ${ins.line}: ${ins.op} before the first FROM`);
      stage.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** The chain of stages a stage builds on, itself first, the external base image last. */
export function stageChain(stages: readonly Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === name);
  while (current) {
    chain.push(current);
    const parent = current.from;
    current = stages.find((s) => s.name === parent);
  }
  return chain;
}

/** COPY's flags (--from=x, --chown=…) and its sources and destination. */
export function copyParts(ins: Instruction): {
  flags: Map<string, string>;
  sources: string[];
  dest: string;
} {
  const words = ins.args.split(/\s+/).filter(Boolean);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--')) {
    const [k, v] = words.shift()!.slice(2).split('=', 2);
    flags.set(k!, v ?? '');
  }
  const dest = words.pop() ?? '';
  return { flags, sources: words, dest };
}

/** A .dockerignore pattern as a regular expression over slash-separated relative paths. */
function patternRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // "**/" matches any number of directories, including none.
        const slash = pattern[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Whether a context path is left out of the build by a .dockerignore's text. */
export function isIgnored(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      return { negate, re: patternRegex(p) };
    });
  const parts = path.split('/');
  const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
  }
  return ignored;
}
