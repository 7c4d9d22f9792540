/**
 * A duration as a person says it in an alert: "45 s", "6 min", "2 h 5 min", "3 d 4 h".
 * Two units at most, rounded down: an alert says roughly how long, not to the millisecond.
 */
export function spokenDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}
