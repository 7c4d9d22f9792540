/**
 * The preview's CSS: HA's sections view in outline (sections of at least 320 px side by
 * side up to `max_columns`, each a 12-column grid of 56 px rows with 8 px gaps, as
 * hui-grid-section.ts lays them out) in a light theme.
 */
export function previewStyle(maxColumns: number): string {
  return `
:root { --good: #43a047; --bad: #db4437; --warn: #ffa600; --idle: #9e9e9e; --text: #212121;
  --muted: #727272; --card: #fff; --line: #e0e0e0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 24px; background: #f5f5f5; color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header h1 { margin: 0; font-size: 22px; font-weight: 400; }
header .note { margin: 4px 0 16px; color: var(--muted); font-size: 12px; }
header code { font-size: 12px; }
.sections { display: grid; gap: 24px 16px; align-items: start;
  grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
  max-width: ${maxColumns * 520}px; }
.grid { display: grid; grid-template-columns: repeat(12, minmax(0, 1fr)); gap: 8px;
  grid-auto-rows: auto; align-content: start; }
.heading { font-size: 18px; padding: 8px 4px 0; }
.heading.subtitle { font-size: 13px; font-weight: 500; color: var(--muted); padding-top: 6px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  min-height: 56px; }
.tile { display: flex; align-items: center; gap: 10px; padding: 0 10px; overflow: hidden; }
.tile .icon { flex: none; width: 36px; height: 36px; border-radius: 50%;
  background: color-mix(in srgb, var(--tone) 20%, transparent); position: relative; }
.tile .icon::after { content: ""; position: absolute; inset: 12px; border-radius: 50%;
  background: var(--tone); }
.tile .info { display: flex; flex-direction: column; min-width: 0; }
.tile .name { font-weight: 500; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .state { color: var(--muted); font-size: 12px; white-space: nowrap; }
.good { --tone: var(--good); } .bad { --tone: var(--bad); } .warn { --tone: var(--warn); }
.idle { --tone: var(--idle); }
.button { display: flex; align-items: center; justify-content: center; gap: 6px;
  color: #03a9f4; font-weight: 500; }
.button .glyph { font-size: 18px; }
.gauge { padding: 12px 16px 10px; text-align: center; }
.gauge svg { width: 100%; max-width: 200px; }
.gauge path { fill: none; stroke-width: 12; }
.gauge .track { stroke: var(--line); }
.gauge .value.green { stroke: var(--good); } .gauge .value.yellow { stroke: var(--warn); }
.gauge .value.red { stroke: var(--bad); } .gauge .value.none { stroke: #039be5; }
.gauge text { font-size: 12px; text-anchor: middle; fill: var(--text); }
.gauge .name { color: var(--muted); font-weight: 500; }
.entities { padding: 12px 16px; }
.entities .title { font-size: 16px; }
.entities ul { list-style: none; margin: 8px 0 0; padding: 0; }
.entities li { display: flex; align-items: center; gap: 8px; padding: 4px 0; }
.dot { width: 10px; height: 10px; border-radius: 50%; background: var(--bad); }
`;
}
