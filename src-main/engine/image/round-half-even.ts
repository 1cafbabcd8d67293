/** Python `round` / numpy `round`: to nearest, ties to even (JS Math.round rounds ties up; §9.3 pitfall 12). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for doubles
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
