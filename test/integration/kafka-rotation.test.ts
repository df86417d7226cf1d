// Credential rotation on Kafka's SASL_SSL listener (SCRAM-SHA-512), on both Kafka drivers (#26): the
// password is KAFKA_SASL_PASSWORD=secret://…, read from a mounted secrets folder. The folder gets
// the new password first, then the admin API changes the user's SCRAM credentials and the
// service's connections are cut (Kafka keeps connections that logged in before, and has no command
// to drop them). The running broker reads the secret again when Kafka refuses the old password on
// reconnecting, and no publish fails beyond the first.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import {
  cutConnectionsTo,
  newPassword,
  secretsFolder,
  setScramPassword,
  steadyTraffic,
} from '../support/rotation.ts';
import { secretWatch } from '../support/secret-watch.ts';
import { waitFor } from '../support/wait.ts';
import { findKafkaSecure } from '../support/secure-servers.ts';
import { findKafka } from '../support/servers.ts';

const secure = await findKafkaSecure('kafka');
const plain = await findKafka();
const skip = 'skip' in secure ? secure.skip : 'skip' in plain ? plain.skip : false;

describe('kafka SCRAM credential rotation from a secret:// reference', { skip }, () => {
  if ('skip' in secure || 'skip' in plain) return;
  const secrets = secretsFolder();
  after(() => secrets.remove());
  // The same node's plaintext listener, which needs no login, carries the admin requests.
  const adminBroker = plain.brokers[0]!;
  const saslPort = Number(secure.saslBrokers[0]!.split(':').at(-1));

  for (const driver of ['kafka', 'platformatic-kafka']) {
    it(`rotation on ${driver}: a password changed in the store, then on the server, fails no publish beyond the first`, async () => {
      const user = `rotation-${process.pid}-${driver}`;
      const secret = `kafka-password-${driver}`;
      const [oldPassword, newOne] = [newPassword('old'), newPassword('new')];
      await setScramPassword(adminBroker, user, oldPassword);
      secrets.write(secret, oldPassword);
      const watch = secretWatch();
      const { runtime } = watch;
      const env = {
        BROKER_DRIVER: driver,
        KAFKA_BROKERS: secure.saslBrokers.join(','),
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: user,
        KAFKA_SASL_PASSWORD: `secret://${secret}`,
        KAFKA_TLS_CA_FILE: secure.caFile,
        SECRETS_DRIVER: 'file',
        SECRETS_DIR: secrets.dir,
      };
      const infra = await createInfrastructure(await loadConfig(env, { runtime }), runtime);
      try {
        const { broker } = infra;
        const topic = `berth-rotation-${process.pid}-${driver}`;
        // The new user reaches the broker through the metadata log: the first publish may wait for it.
        const publishes = () => broker.publish(topic, { key: 'k', value: { n: -1 } }).then(() => true);
        await waitFor('a first publish as the new user', publishes, 10_000, {
          everyMs: 250,
          ignoreErrors: true,
        });
        let n = 0;
        const traffic = steadyTraffic(() => broker.publish(topic, { key: `k${n % 4}`, value: { n: n++ } }));
        await sleep(300);
        secrets.write(secret, newOne);
        await sleep(200);
        await setScramPassword(adminBroker, user, newOne);
        // Until the broker applied it, a login with the old password still works.
        await sleep(500);
        // Between publishes: one cut mid-flight fails for the cut, which is not what this shows.
        const cut = await traffic.between(() => Promise.resolve(cutConnectionsTo(saslPort)));
        await sleep(2_000);
        const result = await traffic.stop();
        assert.ok(cut >= 1, `the broker's connections were cut (${cut})`);
        assert.ok(
          result.failures.length <= 1,
          `${result.failures.length} of ${result.calls} publishes failed: ${JSON.stringify(result.failures.slice(0, 3))}`,
        );
        await broker.publish(topic, { key: 'k', value: { n: 'after' } });
        assert.equal((await broker.health()).status, 'up');
        assert.match(watch.logs(), /credentials renewed/);
        watch.keep(result);
        await watch.assertNoSecrets({ 'the old password': oldPassword, 'the new password': newOne });
        console.log(
          `kafka rotation (${driver}): ${result.calls} publishes, ${result.failures.length} failed, ${cut} connections cut, slowest ${result.slowestMs} ms`,
        );
      } finally {
        await infra.close();
      }
    });
  }
});
