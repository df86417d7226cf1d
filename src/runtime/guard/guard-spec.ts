import type { OperationSpecs } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type { PolicyOverrides } from '../runtime.ts';
import type { OperationMetrics } from '../telemetry/semconv.ts';
import type { ServerInfo } from '../telemetry/server-info.ts';
import type { CredentialRenewal } from './credential-renewal.ts';

/** Labels of one call from its result, undefined when it failed: e.g. the command and its outcome. */
export type CallLabels<R> = (result: R | undefined) => Record<string, string>;

/** What a port brings to guard its adapters; a new port defines one and edits nothing here. */
export interface GuardedPort<Op extends string> {
  /** The port, e.g. `document-store`. */
  port: string;
  /** Component ids default to `<idPrefix>:<system>`, e.g. `documents:mongodb`. */
  idPrefix: string;
  operations: OperationSpecs<Op>;
  /** The port's family, from semconv.ts. */
  metrics: OperationMetrics;
}

/** The options every `guard<Port>()` takes. */
export interface GuardedOptions {
  /** Component id; default `<port>:<system>`, e.g. `cache:redis`. */
  id?: string | undefined;
  policies?: PolicyOverrides | undefined;
  /** The adapter's server, told by the adapter; labels metrics and spans. */
  server?: ServerInfo | undefined;
  /** The adapter's rotating secrets: read again once when a call or probe is `unauthorized`. */
  credentialRenewal?: CredentialRenewal | undefined;
}

export interface GuardSpec<Op extends string> extends Omit<GuardedPort<Op>, 'idPrefix'> {
  /** The component id, e.g. `cache:redis`. */
  id: string;
  /** The backend, e.g. `redis`: OpenTelemetry's system name. */
  system: string;
  classifyError: (error: unknown) => ErrorClassification;
  policies?: PolicyOverrides | undefined;
  server?: ServerInfo | undefined;
  /** See `GuardedOptions.credentialRenewal`. */
  credentialRenewal?: CredentialRenewal | undefined;
}
