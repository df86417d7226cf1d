// Option and input errors in plain words: what was expected, never zod's own wording, never a value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { cassandraTimeSeriesOptionsSchema } from '../../src/adapters/cassandra/options.ts';
import { kafkaBrokerOptionsSchema } from '../../src/adapters/kafka/options.ts';
import { parseInput, parseOptions } from '../../src/runtime/options/validate.ts';
import { ConfigError, type ConfigIssue } from '../../src/ports/errors.ts';
import { silentRuntime } from '../support/runtime.ts';

function issuesOf(schema: z.ZodType, input: unknown): Record<string, string> {
  try {
    parseOptions(schema, input, 'options');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return Object.fromEntries(error.issues.map((issue: ConfigIssue) => [issue.path, issue.message]));
  }
  assert.fail('expected a ConfigError');
}

// zod's own wording, which no message may keep.
const zodWording =
  /Too small|Too big|Invalid input|Invalid option|Invalid string|Unrecognized key|expected [a-z]+ to/;

const cassandra = { contactPoints: ['db:9042'], localDataCenter: 'dc1', keyspace: 'metrics' };

describe('option messages in plain words', () => {
  it('too_small and too_big say the bound in words', () => {
    const issues = issuesOf(
      z.strictObject({
        timeoutMs: z.number().int().positive(),
        ratio: z.number().min(0).max(1),
        name: z.string().min(1),
        code: z.string().min(3).max(5),
        nodes: z.array(z.string()).min(1).max(2),
      }),
      { timeoutMs: 0, ratio: 1.5, name: '', code: 'ab', nodes: ['a', 'b', 'c'] },
    );
    assert.deepEqual(issues, {
      timeoutMs: 'must be a whole number of at least 1',
      ratio: 'must be at most 1',
      name: 'must not be empty',
      code: 'must be at least 3 characters long',
      nodes: 'must have at most 2 items',
    });
    assert.equal(
      issuesOf(z.strictObject({ ratio: z.number().gt(0) }), { ratio: 0 }).ratio,
      'must be greater than 0',
    );
  });

  it('invalid_type names the type expected, and a missing value as required', () => {
    const issues = issuesOf(
      z.strictObject({
        url: z.string(),
        port: z.number().int(),
        tls: z.boolean(),
        nodes: z.array(z.string()),
        ca: z.instanceof(Buffer),
      }),
      { port: 1.5, tls: 'yes', nodes: 'a,b', ca: 'pem' },
    );
    assert.deepEqual(issues, {
      url: 'is required',
      port: 'must be a whole number',
      tls: 'must be true or false, not a string',
      nodes: 'must be a list, not a string',
      ca: 'must be a Buffer, not a string',
    });
  });

  it('invalid_value and enums list the options', () => {
    const issues = issuesOf(kafkaBrokerOptionsSchema, {
      brokers: ['k:9092'],
      sasl: { mechanism: 'gssapi', username: 'u', password: 'p' },
    });
    assert.equal(issues['sasl.mechanism'], 'must be one of "plain", "scram-sha-256", "scram-sha-512"');
    assert.equal(
      issuesOf(z.strictObject({ class: z.literal('SimpleStrategy') }), { class: 'Simple' }).class,
      'must be "SimpleStrategy"',
    );
  });

  it('unrecognized_keys names the near miss, or lists the options', () => {
    assert.deepEqual(
      issuesOf(z.strictObject({ keyPrefix: z.string().optional(), url: z.string() }), {
        url: 'x',
        keyPrefx: 'a',
      }),
      {
        '': 'keyPrefx is not an option here; did you mean keyPrefix?',
      },
    );
    assert.deepEqual(
      issuesOf(z.strictObject({ keyPrefix: z.string().optional(), url: z.string() }), {
        url: 'x',
        colour: 'a',
      }),
      {
        '': 'colour is not an option here; the options are keyPrefix, url',
      },
    );
  });

  it('invalid_union lists the shapes it takes and what the nearest one lacks', () => {
    const replication = { class: 'SimpleStrategy', replication_factor: 3 };
    const message = issuesOf(cassandraTimeSeriesOptionsSchema, {
      ...cassandra,
      createSchema: { replication },
    })['createSchema.replication'];
    assert.equal(
      message,
      'must be { class?: "SimpleStrategy", replicationFactor: a whole number } or ' +
        '{ class: "NetworkTopologyStrategy", dataCenters: an object of named values }; ' +
        'as the first: replicationFactor is required; replication_factor is not an option here; did you mean replicationFactor?',
    );
    const secret = issuesOf(kafkaBrokerOptionsSchema, {
      brokers: ['k:9092'],
      sasl: { mechanism: 'plain', username: 'u', password: 42 },
    })['sasl.password'];
    assert.equal(secret, 'must be a non-empty string or a Redacted string');
  });

  it('custom checks keep their own message; one without says what it wanted', () => {
    const issues = issuesOf(
      z.strictObject({
        a: z.string().refine(() => false, 'must be lowercase'),
        b: z.custom(() => false).describe('a function'),
        c: z.custom(() => false),
      }),
      { a: 'X', b: 1, c: 1 },
    );
    assert.deepEqual(issues, { a: 'must be lowercase', b: 'must be a function', c: 'is not valid here' });
  });

  it('a string format without a message of its own is named', () => {
    const issues = issuesOf(z.strictObject({ id: z.string().regex(/^[a-z]+$/), site: z.url() }), {
      id: 'A!',
      site: 'nope',
    });
    assert.deepEqual(issues, { id: 'must match the pattern /^[a-z]+$/', site: 'must be a URL' });
  });

  it('no message keeps zod’s wording or echoes a value, from typed options or the environment', async () => {
    const secret = 'hunter2-never-echoed';
    const error = (() => {
      try {
        createRedisCache(
          {
            url: `redis://:${secret}@h`,
            connectTimeoutMs: -1,
            keyPrefix: 7,
            policies: { timeoutMs: 0, retry: { maxAttempts: 50 } },
            password: 42,
            unknownOption: secret,
          } as never,
          silentRuntime(),
        );
      } catch (caught) {
        return caught as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.ok(error instanceof ConfigError);
    for (const issue of error.issues) assert.doesNotMatch(issue.message, zodWording, issue.path);
    assert.equal(error.message.includes(secret), false);
    assert.match(error.message, /policies\.retry\.maxAttempts: must be a whole number of at most 20/);

    const fromEnv = await loadConfig({ CACHE_DRIVER: 'memory', CACHE_TIMEOUT_MS: '-5' }).catch(
      (caught: unknown) => caught as ConfigError,
    );
    assert.ok(fromEnv instanceof ConfigError);
    assert.equal(
      fromEnv.message,
      'Invalid configuration from the environment: CACHE_TIMEOUT_MS: must be a whole number of at least 1',
    );
  });

  it('operation input is described the same way', () => {
    assert.throws(
      () =>
        parseInput(
          z.strictObject({ ttlMs: z.number().int().positive() }),
          { ttlMs: -1 },
          (m) => new Error(m),
        ),
      { message: 'ttlMs: must be a whole number of at least 1' },
    );
  });
});
