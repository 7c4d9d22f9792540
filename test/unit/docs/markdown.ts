import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * Reading the project's markdown for the docs tests: which files, their fenced blocks,
 * their links and their headings' anchors, as GitHub renders them.
 */

export const ROOT = resolve(import.meta.dirname, '../../..');

/** README.md and every markdown file under docs/, as paths relative to the root. */
export function docFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

export interface Fence {
  /** The info string after the backticks (`yaml`, `sh`, `yaml not-config`). */
  readonly info: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** Every fenced code block (``` or ~~~, three or more). */
export function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const marker = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) break;
      body.push(lines[j]!);
    }
    out.push({ info: open[2]!.trim(), body: body.join('\n'), line: i + 1 });
    i = j;
  }
  return out;
}

/** The text with fenced blocks (and inline code) blanked out: their brackets are no links. */
function prose(markdown: string, inline = true): string {
  const lines = markdown.split('\n');
  let inFence: string | undefined;
  const kept = lines.map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (inFence === undefined && m) {
      inFence = m[1]!;
      return '';
    }
    if (inFence !== undefined) {
      if (m && m[1]![0] === inFence[0] && m[1]!.length >= inFence.length) inFence = undefined;
      return '';
    }
    return inline ? line.replace(/(`+)[^`]*?\1/g, '') : line;
  });
  return kept.join('\n');
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Inline links and images `[text](target)`, and reference definitions `[x]: target`. */
export function links(markdown: string): Link[] {
  const text = prose(markdown);
  const out: Link[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    out.push({ target: m[1]!, line: lineOf(m.index) });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    out.push({ target: m[1]!, line: lineOf(m.index) });
  }
  return out;
}

/** The anchors GitHub gives a file's headings (`## Who may command` → `who-may-command`). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(markdown, false).matchAll(/^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** A path as the repository names it, or undefined when it leaves the repository. */
export function inRepo(fromFile: string, target: string): string | undefined {
  const abs = resolve(ROOT, fromFile, '..', target);
  const rel = relative(ROOT, abs);
  return rel.startsWith('..') || resolve(rel) === rel ? undefined : rel;
}
