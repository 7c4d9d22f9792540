import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_FILE, type AuditEntry } from '../../src/commands/audit.js';

/** The agent's audit log as written to disk under `dataDir`, oldest entry first. */
export async function readAudit(dataDir: string): Promise<AuditEntry[]> {
  return (await readFile(join(dataDir, AUDIT_FILE), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEntry);
}
