/**
 * HTML built from strings with every outside value escaped (issue #20: container names,
 * incident text and job messages come from the site, and a name like `<img onerror=…>`
 * must stay text). `html` escapes each interpolated value unless it is already `Html`.
 */

/** A fragment that is already safe HTML. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text made safe for an element's content or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

type Part = Html | string | number | boolean | null | undefined | readonly Html[];

/** A tagged template: strings as written, values escaped, `Html` and lists of it as is. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += piece(v) + strings[i + 1]!;
  });
  return new Html(out);
}

function piece(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Html[]).map((h) => h.text).join('');
  return escapeHtml(v);
}
