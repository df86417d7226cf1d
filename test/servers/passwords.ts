// The passwords of the test servers: made once and kept in the state folder beside the
// certificates (certificates.ts), so a restarted server and its clients keep agreeing.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const hexPassword = (): string => randomBytes(16).toString('hex');

export interface PasswordRules {
  /** A new password; default 32 hex digits. */
  readonly make?: () => string;
  /** Whether a kept one may stay; one refused (empty, or of an older format) is replaced. */
  readonly valid?: (kept: string) => boolean;
}

/** The password in `file` (one line, mode 0600), made the first time. */
export function keptPassword(file: string, rules: PasswordRules = {}): string {
  const { make = hexPassword, valid = (kept: string) => kept !== '' } = rules;
  let kept: string | undefined;
  try {
    kept = fs.readFileSync(file, 'utf8').trim();
    if (valid(kept)) return kept;
  } catch {
    // first time
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fresh = make();
  try {
    // 'wx' when there is none: of several processes starting the server at once, the first one's is kept.
    fs.writeFileSync(file, `${fresh}\n`, { mode: 0o600, flag: kept === undefined ? 'wx' : 'w' });
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fs.readFileSync(file, 'utf8').trim(); // another process wrote it first
  }
}
