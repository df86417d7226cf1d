// Which version of each Kafka API kafkajs 2.2.4 sends to Kafka 3.9 and 4.4, picked by kafkajs's
// own lookup from what the broker advertises: Kafka 4.0 removed the versions older than Kafka 2.1
// (KIP-896), and a broker closes the connection on a removed one, which kafkajs would retry as a
// lost connection rather than report.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { kafkaApiVersions, kafkaRequest } from '../servers/launchers/kafka-probe.ts';
import { findKafka, findKafka4 } from '../support/servers.ts';

interface RequestDefinition {
  versions: string[];
  protocol: (options: { version: number }) => unknown;
}
type BrokerVersions = Record<number, { minVersion: number; maxVersion: number }>;
type Lookup = (versions: BrokerVersions) => (apiKey: number, definition: RequestDefinition) => unknown;

// kafkajs's request table and version lookup are internal: read from the installed 2.2.4.
const require = createRequire(import.meta.url);
const { requests, lookup } = require('kafkajs/src/protocol/requests/index.js') as {
  requests: Record<string, RequestDefinition>;
  lookup: Lookup;
};
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;

/** Per API kafkajs implements: the version its lookup picks from the broker's ranges, and that range. */
async function negotiated(broker: string) {
  const [host = '', port = ''] = broker.split(':');
  const ranges = await kafkaApiVersions(host, Number(port));
  const advertised: BrokerVersions = {};
  for (const { apiKey, min, max } of ranges) advertised[apiKey] = { minVersion: min, maxVersion: max };
  const pick = lookup(advertised);
  return Object.entries(requests)
    .filter(([, definition]) => definition.versions.length > 0)
    .map(([name, definition]) => {
      const apiKey = apiKeys[name]!;
      let version: number | undefined;
      try {
        // kafkajs takes min(its newest, the broker's newest) and never looks at the broker's oldest.
        version = pick(apiKey, { ...definition, protocol: (options) => options.version }) as number;
      } catch {
        version = undefined; // KafkaJSServerDoesNotSupportApiKey: the broker lacks the API
      }
      return { name, version, range: advertised[apiKey] };
    });
}

for (const [label, find] of [
  ['Kafka 3.9', findKafka],
  ['Kafka 4.4', findKafka4],
] as const) {
  const kafka = await find();
  describe(`kafkajs 2.2.4 on ${label}`, { skip: 'skip' in kafka ? kafka.skip : false }, () => {
    it('sends every API it implements in a version the broker serves', async () => {
      assert.ok(!('skip' in kafka));
      const apis = await negotiated(kafka.brokers[0]!);
      assert.ok(apis.length >= 30, `kafkajs implements ${apis.length} APIs`);
      const refused = apis
        .filter(
          ({ version, range }) => version === undefined || range === undefined || version < range.minVersion,
        )
        .map(
          ({ name, version, range }) =>
            `${name} v${version} (broker ${range?.minVersion}-${range?.maxVersion})`,
        );
      assert.deepEqual(refused, []);
      // Kafka 4 advertises Produce from v0 (for librdkafka) but refuses v0-v2: kafkajs sends v7.
      assert.equal(apis.find((api) => api.name === 'Produce')?.version, 7);
    });
  });
}

const kafka4 = await findKafka4();
describe('Kafka 4.4 refusing a removed version', { skip: 'skip' in kafka4 ? kafka4.skip : false }, () => {
  it('closes the connection on Fetch v3 where it answers the same request as v4', async () => {
    assert.ok(!('skip' in kafka4));
    const [host = '', port = ''] = kafka4.brokers[0]!.split(':');
    // replica_id -1, max_wait 0, min_bytes 0, max_bytes 1 MB, no topics; v4 adds isolation_level.
    const v3 = Buffer.alloc(20);
    v3.writeInt32BE(-1, 0);
    v3.writeInt32BE(1024 * 1024, 12);
    const fetch = (version: number, body: Buffer) =>
      kafkaRequest(host, Number(port), { apiKey: 1, version, name: `Fetch v${version}` }, body, 5_000);
    const reply = await fetch(4, Buffer.concat([v3, Buffer.alloc(1)]));
    assert.equal(reply.int32(), 0, 'Fetch v4 answered with throttle_time_ms 0');
    await assert.rejects(fetch(3, v3), /closed the connection before replying/);
  });
});
