import { z } from 'zod';
import { executorOptionsSchema, signalNames, withoutNul } from '../../runtime/executor/call-schemas.ts';

export const processExecutorOptionsSchema = executorOptionsSchema.extend({
  /**
   * Parent signals passed on to every running command's process group, even when the
   * application handles them itself; `true` for SIGINT, SIGTERM and SIGHUP. Default false.
   */
  forwardSignals: z.union([z.boolean(), z.array(z.enum(signalNames))]).default(false),
  /** The health probe's command and arguments. Default: this Node binary with `-e 0`. */
  probeCommand: z.array(withoutNul.min(1)).min(1).optional(),
});

export type ProcessExecutorOptions = z.input<typeof processExecutorOptionsSchema>;
