import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Redacted } from '../ports/redacted.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { rejectsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface SecretStoreConformanceOptions {
  name: string;
  /**
   * A store holding at least `seed` (names to plain values). Read-only stores are seeded
   * through their backend (variables, files); names are unique to each call.
   */
  create: (seed: Readonly<Record<string, string>>) => SecretStore | Promise<SecretStore>;
  /** Whether the store writes: the suite checks that `capabilities.write` says so and acts so. */
  write: boolean;
  test?: TestApi;
}

/** The behaviour every `SecretStore` adapter must show, run against memory, env, file and Key Vault. */
export function secretStoreConformance(options: SecretStoreConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  // Key Vault and env names allow letters, digits and `-`: names unique to this run, lower-case.
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  const name = (): string => `conformance-${run}-${++counter}`;
  const plain = (): string => `s3cret-${randomBytes(12).toString('base64url')}`;

  const withStore =
    (seed: Record<string, string>, fn: (store: SecretStore) => Promise<void>) => async (): Promise<void> => {
      const store = await options.create(seed);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

  describe(`secret store conformance: ${options.name}`, () => {
    it(
      'has an id and declares whether it writes',
      withStore({}, (store) => {
        assert.ok(store.id.length > 0);
        assert.equal(store.capabilities.write, options.write);
        return Promise.resolve();
      }),
    );

    const seeded = name();
    const seededValue = plain();
    it(
      'returns a value that prints as <redacted> everywhere and reveals only on request',
      withStore({ [seeded]: seededValue }, async (store) => {
        const secret = await store.get(seeded);
        assert.equal(secret.name, seeded);
        assert.equal(secret.value.reveal(), seededValue);
        for (const printed of [
          String(secret.value),
          `${secret.value as unknown as string}`,
          JSON.stringify(secret),
          JSON.stringify({ nested: [secret] }),
          inspect(secret, { depth: 10 }),
          inspect(secret.value),
        ]) {
          assert.ok(!printed.includes(seededValue), `value leaked into: ${printed}`);
          assert.match(printed, /<redacted>/);
        }
      }),
    );

    const tricky = name();
    const trickyValue = `line one\nline "two" = 'x' ü 日本 ${plain()}\n\tend`;
    it(
      'keeps values byte for byte: new lines inside, quotes, unicode',
      withStore({ [tricky]: trickyValue }, async (store) => {
        assert.equal((await store.get(tricky)).value.reveal(), trickyValue);
      }),
    );

    it(
      'says not_found for a missing secret',
      withStore({}, async (store) => {
        const error = await rejectsWith(store.get(name()), 'not_found');
        assert.equal(error.retryable, false);
      }),
    );

    const listed = Array.from({ length: 30 }, () => name());
    it(
      'lists the names it holds, sorted, without values',
      withStore(Object.fromEntries(listed.map((n) => [n, plain()])), async (store) => {
        const names = await store.list();
        for (const n of listed) assert.ok(names.includes(n), `${n} not listed`);
        assert.deepEqual(names, [...names].sort());
      }),
    );

    it(
      'refuses names that are no names before any I/O, with validation',
      withStore({}, async (store) => {
        for (const bad of ['', '../etc/passwd', 'a/b', '.hidden', 'x'.repeat(200), 'sp ace', 42, undefined]) {
          await rejectsWith(store.get(bad as string), 'validation');
        }
      }),
    );

    it(
      'reports health up without any value in it',
      withStore({ [seeded]: seededValue }, async (store) => {
        const health = await store.health();
        assert.equal(health.status, 'up', health.error);
        assert.ok(!JSON.stringify(health).includes(seededValue));
      }),
    );

    it(
      'refuses calls once closed',
      withStore({ [seeded]: seededValue }, async (store) => {
        await store.close();
        await rejectsWith(store.get(seeded), 'closed');
      }),
    );

    if (options.write) {
      it(
        'sets a new version, reads it back, deletes it',
        withStore({}, async (store) => {
          const n = name();
          const first = plain();
          const expiresAt = new Date(Date.now() + 3_600_000);
          const written = await store.set(n, first, { expiresAt, contentType: 'text/plain' });
          assert.equal(written.name, n);
          const read = await store.get(n);
          assert.equal(read.value.reveal(), first);
          assert.equal(read.contentType, 'text/plain');
          assert.ok(read.expiresAt && Math.abs(read.expiresAt.getTime() - expiresAt.getTime()) < 1000);
          assert.ok((await store.list()).includes(n));

          const second = await store.set(n, new Redacted(plain()));
          if (written.version !== undefined) assert.notEqual(second.version, written.version);
          assert.notEqual((await store.get(n)).value.reveal(), first);

          assert.equal(await store.delete(n), true);
          await rejectsWith(store.get(n), 'not_found');
          assert.ok(!(await store.list()).includes(n));
          assert.equal(await store.delete(n), false);
        }),
      );

      it(
        'refuses a value that is not a string before any I/O',
        withStore({}, async (store) => {
          const n = name();
          await rejectsWith(store.set(n, 42 as unknown as string), 'validation');
          await rejectsWith(store.get(n), 'not_found');
        }),
      );
    } else {
      it(
        'refuses set and delete with config, changing nothing',
        withStore({ [seeded]: seededValue }, async (store) => {
          await rejectsWith(store.set(seeded, 'other'), 'config');
          await rejectsWith(store.delete(seeded), 'config');
          assert.equal((await store.get(seeded)).value.reveal(), seededValue);
        }),
      );
    }
  });
}
