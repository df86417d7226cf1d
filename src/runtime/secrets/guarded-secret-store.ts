import type { OperationOptions } from '../../ports/component.ts';
import { Redacted } from '../../ports/redacted.ts';
import {
  secretStoreOperations,
  type Secret,
  type SecretMetadata,
  type SecretSetOptions,
  type SecretStore,
  type SecretStoreAdapter,
  type SecretStoreOperation,
  type StoredSecret,
} from '../../ports/secret-store.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { secretStoreOperationDuration } from '../telemetry/semconv.ts';

export type GuardedSecretStoreOptions = GuardedOptions;

// Letters, digits, `-`, `_`, `.`; never a path: no `/`, no leading dot.
const portableName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

const secretsPort: GuardedPort<SecretStoreOperation> = {
  port: 'secrets',
  idPrefix: 'secrets',
  operations: secretStoreOperations,
  metrics: secretStoreOperationDuration,
};

/**
 * Builds the `SecretStore` port around a backend once for every adapter: name and value
 * checks before any I/O, values wrapped in `Redacted`, the write capability enforced, guard.
 */
export function guardSecretStore(
  adapter: SecretStoreAdapter,
  options: GuardedSecretStoreOptions,
  runtime: Runtime,
): SecretStore {
  const guard = Guard.forAdapter(secretsPort, adapter, options, runtime);

  const checkName = (operation: string, name: unknown): string => {
    if (typeof name !== 'string' || !portableName.test(name)) {
      throw guard.invalid(
        operation,
        'name',
        'must be 1 to 127 letters, digits, "-", "_" or ".", starting with a letter or digit',
      );
    }
    const refusal = adapter.checkName?.(name);
    if (refusal !== undefined) throw guard.invalid(operation, 'name', refusal);
    return name;
  };
  const writer =
    adapter.set && adapter.delete
      ? { set: adapter.set.bind(adapter), delete: adapter.delete.bind(adapter) }
      : undefined;
  const checkWritable = (operation: string): NonNullable<typeof writer> => {
    if (writer === undefined)
      throw guard.error('config', operation, `${adapter.system} secret store is read-only`);
    return writer;
  };
  const toSecret = (name: string, stored: StoredSecret | undefined): Secret => {
    if (stored === undefined) throw guard.error('not_found', 'get', `no secret named ${name}`);
    const { value, ...metadata } = stored;
    return { ...metadata, value: new Redacted(value) };
  };
  const store: SecretStore = {
    ...guard.component(adapter),
    capabilities: { write: writer !== undefined },
    get(name: string, opts?: OperationOptions): Promise<Secret> {
      return rejecting(() => {
        checkName('get', name);
        return guard.run(
          'get',
          opts,
          (ctx) => adapter.get(name, ctx),
          (stored) => toSecret(name, stored),
        );
      });
    },
    list(opts?: OperationOptions): Promise<string[]> {
      return guard.run(
        'list',
        opts,
        (ctx) => adapter.list(ctx),
        (names) => [...names].sort(),
      );
    },
    set(name: string, value: string | Redacted<string>, opts?: SecretSetOptions): Promise<SecretMetadata> {
      return rejecting(() => {
        checkName('set', name);
        const { set } = checkWritable('set');
        const plain = value instanceof Redacted ? value.reveal() : value;
        if (typeof plain !== 'string') throw guard.invalid('set', 'value', 'must be a string');
        const expiresAt = opts?.expiresAt;
        if (expiresAt !== undefined && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())))
          throw guard.invalid('set', 'expiresAt', 'must be a valid Date');
        return guard.run('set', opts, (ctx) =>
          set(name, plain, { contentType: opts?.contentType, expiresAt }, ctx),
        );
      });
    },
    delete(name: string, opts?: OperationOptions): Promise<boolean> {
      return rejecting(() => {
        checkName('delete', name);
        const writable = checkWritable('delete');
        return guard.run('delete', opts, (ctx) => writable.delete(name, ctx));
      });
    },
  };
  return store;
}
