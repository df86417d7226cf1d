import type { ErrorClassification } from '../../ports/errors.ts';

// errno codes of spawn, execve and the command lookup, by what they say about the call.
const errnoCodes: Record<string, ErrorClassification> = {
  ENOENT: { reason: 'not_found' },
  ENOTDIR: { reason: 'not_found' },
  EACCES: { reason: 'unauthorized' },
  EPERM: { reason: 'unauthorized' },
  ENOEXEC: { reason: 'validation', message: 'not an executable file (exec format error)' },
  E2BIG: { reason: 'validation', message: 'arguments and environment are too long' },
  ENAMETOOLONG: { reason: 'validation', message: 'a path is too long' },
  ELOOP: { reason: 'validation', message: 'too many symbolic links in a path' },
  EAGAIN: { reason: 'unavailable', message: 'the limit on processes is reached' },
  EMFILE: { reason: 'unavailable', message: 'too many open files in this process' },
  ENFILE: { reason: 'unavailable', message: 'too many open files on this host' },
  ENOMEM: { reason: 'unavailable', message: 'not enough memory to start a process' },
  ETXTBSY: { reason: 'unavailable', message: 'the executable is being written' },
};

/** Maps an error of starting a local process to berth's reasons. */
export function classifyProcessError(error: unknown): ErrorClassification {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' ? errnoCodes[code] : undefined) ?? { reason: 'internal' };
}
