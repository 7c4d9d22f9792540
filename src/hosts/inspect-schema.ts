import { z } from 'zod';
import { expectedMessage, formatPath, formatValue } from '../config/errors.js';
import { OutpostError } from '../core/errors.js';

/**
 * The part of `docker inspect` / `GET /containers/{id}/json` the agent reads, as both
 * engines write it: Docker (API and CLI), podman's Docker-compatible API and podman's own
 * CLI (no leading `/` in Name, no `sha256:` in Image, `ImageName`, older releases with
 * `State.Healthcheck` instead of `State.Health`). Objects are loose: engines add fields
 * with every release, and an unknown field is no reason to stop watching a host.
 */

/** A full or short engine container id; anything else is refused before it is used. */
export const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

const health = z
  .looseObject({
    Status: z.string(),
    FailingStreak: z.int().min(0).optional(),
  })
  .nullable()
  .optional();

export const inspectRecordSchema = z.looseObject({
  Id: z.string().regex(CONTAINER_ID, { error: 'expected a container id of 12-64 hex digits' }),
  Name: z.string(),
  Created: z.string().optional(),
  RestartCount: z.int().min(0),
  Image: z.string(),
  ImageName: z.string().optional(),
  Config: z.looseObject({
    Image: z.string().optional(),
    Labels: z.record(z.string(), z.string()).nullable().optional(),
  }),
  State: z.looseObject({
    Status: z.string(),
    Running: z.boolean().optional(),
    Paused: z.boolean().optional(),
    Restarting: z.boolean().optional(),
    OOMKilled: z.boolean().optional(),
    Dead: z.boolean().optional(),
    ExitCode: z.int(),
    Error: z.string().optional(),
    StartedAt: z.string().optional(),
    FinishedAt: z.string().optional(),
    Health: health,
    Healthcheck: health,
  }),
});

export type InspectRecord = z.output<typeof inspectRecordSchema>;

const inspectListSchema = z.array(inspectRecordSchema);

/** At most this many field problems go into one message; the rest are counted. */
const MAX_ISSUES = 3;

/** Parses engine output text (a JSON array of inspect records); throws ENGINE_BAD_OUTPUT. */
export function parseInspectText(text: string, source: string): InspectRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw notJson(source, reason, text.length, text.trimStart());
  }
  return parseInspectValue(value, source);
}

/** The error for output that is not JSON: why, how long, and how it starts. */
export function notJson(
  source: string,
  reason: string,
  length: number,
  head: string,
): OutpostError {
  return new OutpostError(
    'ENGINE_BAD_OUTPUT',
    `${source}: output is not valid JSON (${reason}; ${length} bytes, ` +
      `starting ${formatValue(head.slice(0, 40))})`,
    { retryable: true },
  );
}

/** Validates already-parsed inspect records; errors name the field, value and expectation. */
export function parseInspectValue(value: unknown, source: string): InspectRecord[] {
  const result = inspectListSchema.safeParse(value, { reportInput: true, error: expectedMessage });
  if (result.success) return result.data;
  throw badOutput(source, 'containers', result.error);
}

/** Validates one inspect record (the engine API answers one container at a time). */
export function parseInspectOne(value: unknown, source: string): InspectRecord {
  const result = inspectRecordSchema.safeParse(value, {
    reportInput: true,
    error: expectedMessage,
  });
  if (result.success) return result.data;
  throw badOutput(source, 'container', result.error);
}

/**
 * Validates record `index` of a listing that arrives one record at a time; errors name
 * the field as parseInspectValue does (`containers[3].State.Status`).
 */
export function parseInspectElement(value: unknown, index: number, source: string): InspectRecord {
  const result = inspectRecordSchema.safeParse(value, {
    reportInput: true,
    error: expectedMessage,
  });
  if (result.success) return result.data;
  for (const iss of result.error.issues) iss.path.unshift(index);
  throw badOutput(source, 'containers', result.error);
}

function badOutput(source: string, root: string, error: z.ZodError): OutpostError {
  const lines = error.issues.slice(0, MAX_ISSUES).map((iss) => {
    const input = (iss as { input?: unknown }).input;
    return `${fieldPath(root, iss.path)}: ${iss.message}, got ${formatValue(input)}`;
  });
  const more = error.issues.length - MAX_ISSUES;
  return new OutpostError(
    'ENGINE_BAD_OUTPUT',
    `${source}: unexpected output: ${lines.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`,
    { retryable: true },
  );
}

/** `containers` + `[3].State.Status` → `containers[3].State.Status`. */
function fieldPath(root: string, path: readonly PropertyKey[]): string {
  if (path.length === 0) return root;
  const rest = formatPath(path);
  return typeof path[0] === 'number' ? `${root}${rest}` : `${root}.${rest}`;
}
