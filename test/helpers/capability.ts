/** True in CI (CI=true, as CI services set it): there no suite may skip for what it lacks. */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/**
 * For `describe.skipIf`: whether a suite that needs `what` is skipped because this machine
 * lacks it (`missing` says why; undefined when it is there). Outside CI the suite skips, says
 * why, and the closing line of `npm test` lists it. Under CI=true this throws instead, so the
 * file fails naming what is missing: CI is where the full-disk and read-only tests must run.
 */
export function skipWithout(what: string, missing: string | undefined): boolean {
  if (missing === undefined) return false;
  if (inCI()) throw new Error(`CI=true, and ${what} is impossible here: ${missing}`);
  console.warn(`skipped, ${what} is impossible here: ${missing}`);
  return true;
}
