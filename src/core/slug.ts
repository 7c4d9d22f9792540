/**
 * Makes a topic- and id-safe token: only [a-zA-Z0-9_-] (the characters Home Assistant
 * allows in discovery topic ids and unique ids). Lossy on purpose; keep the original
 * for display and compare slugs, not names.
 */
export function slugify(input: string): string {
  const s = input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return s.length > 0 ? s : '_';
}

/** Lower-case slug, for ids derived from host names. */
export function slugifyId(input: string): string {
  return slugify(input).toLowerCase();
}
