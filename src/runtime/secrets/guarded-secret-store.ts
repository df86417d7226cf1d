import type { HealthResult, OperationOptions } from '../../ports/component.ts';
import { Redacted } from '../../ports/redacted.ts';
import {
  secretStorePort,
  type Secret,
  type SecretMetadata,
  type SecretSetOptions,
  type SecretStore,
  type SecretStoreAdapter,
  type SecretStoreOperation,
  type StoredSecret,
} from '../../ports/secret-store.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { secretStoreOperationDuration } from '../telemetry/semconv.ts';

export type GuardedSecretStoreOptions = GuardedOptions;

// Letters, digits, `-`, `_`, `.`; never a path: no `/`, no leading dot.
const portableName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

const secretsPort: GuardedPort<SecretStoreOperation> = {
  port: secretStorePort.name,
  idPrefix: secretStorePort.idPrefix,
  operations: secretStorePort.operations,
  metrics: secretStoreOperationDuration,
};

type Writer = Required<Pick<SecretStoreAdapter, 'set' | 'delete'>>;

/**
 * Builds the `SecretStore` port around a backend once for every adapter: name and value
 * checks before any I/O, values wrapped in `Redacted`, the write capability enforced, guard.
 */
export function guardSecretStore(
  adapter: SecretStoreAdapter,
  options: GuardedSecretStoreOptions,
  runtime: Runtime,
): SecretStore {
  return new GuardedSecretStore(Guard.forAdapter(secretsPort, adapter, options, runtime), adapter);
}

class GuardedSecretStore extends GuardedComponent<SecretStoreOperation> implements SecretStore {
  readonly capabilities: SecretStore['capabilities'];
  readonly #guard: Guard<SecretStoreOperation>;
  readonly #adapter: SecretStoreAdapter;
  readonly #writer: Writer | undefined;

  constructor(guard: Guard<SecretStoreOperation>, adapter: SecretStoreAdapter) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    this.#writer =
      adapter.set && adapter.delete
        ? { set: adapter.set.bind(adapter), delete: adapter.delete.bind(adapter) }
        : undefined;
    this.capabilities = { write: this.#writer !== undefined };
  }

  readonly get = (name: string, opts?: OperationOptions): Promise<Secret> =>
    rejecting(() => {
      this.#checkName('get', name);
      return this.#guard.run(
        'get',
        opts,
        (ctx) => this.#adapter.get(name, ctx),
        (stored) => this.#toSecret(name, stored),
      );
    });

  readonly list = (opts?: OperationOptions): Promise<string[]> =>
    this.#guard.run(
      'list',
      opts,
      (ctx) => this.#adapter.list(ctx),
      (names) => [...names].sort(),
    );

  readonly set = (
    name: string,
    value: string | Redacted<string>,
    opts?: SecretSetOptions,
  ): Promise<SecretMetadata> =>
    rejecting(() => {
      this.#checkName('set', name);
      const { set } = this.#writable('set');
      const plain = value instanceof Redacted ? value.reveal() : value;
      if (typeof plain !== 'string') throw this.#guard.invalid('set', 'value', 'must be a string');
      const expiresAt = opts?.expiresAt;
      if (expiresAt !== undefined && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())))
        throw this.#guard.invalid('set', 'expiresAt', 'must be a valid Date');
      return this.#guard.run('set', opts, (ctx) =>
        set(name, plain, { contentType: opts?.contentType, expiresAt }, ctx),
      );
    });

  readonly delete = (name: string, opts?: OperationOptions): Promise<boolean> =>
    rejecting(() => {
      this.#checkName('delete', name);
      const writable = this.#writable('delete');
      return this.#guard.run('delete', opts, (ctx) => writable.delete(name, ctx));
    });

  protected override probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#adapter.probe(signal);
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }

  #checkName(operation: string, name: unknown): string {
    if (typeof name !== 'string' || !portableName.test(name)) {
      throw this.#guard.invalid(
        operation,
        'name',
        'must be 1 to 127 letters, digits, "-", "_" or ".", starting with a letter or digit',
      );
    }
    const refusal = this.#adapter.checkName?.(name);
    if (refusal !== undefined) throw this.#guard.invalid(operation, 'name', refusal);
    return name;
  }

  #writable(operation: string): Writer {
    if (this.#writer === undefined)
      throw this.#guard.error('config', operation, `${this.#adapter.system} secret store is read-only`);
    return this.#writer;
  }

  #toSecret(name: string, stored: StoredSecret | undefined): Secret {
    if (stored === undefined) throw this.#guard.error('not_found', 'get', `no secret named ${name}`);
    const { value, ...metadata } = stored;
    return { ...metadata, value: new Redacted(value) };
  }
}
