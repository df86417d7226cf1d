// @platformatic/kafka's SASL login with the password asked at each login (after a renewal in
// flight), and a refused login told to berth: the client reports it to a caller only as a timeout.
import { saslPlain, saslScramSha, type SASLOptions } from '@platformatic/kafka';
import type { KafkaLogin } from '../shared/kafka-options.ts';
import { classifyPlatformaticKafkaError } from './errors.ts';

type Mechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/**
 * The `sasl` option: the client's own PLAIN and SCRAM exchanges through its `authenticate` hook,
 * whose answer is looked at on the way (`onRefused` for a refused login). `password` waits for
 * `renewing()` when it gives a promise.
 */
export function platformaticLogin(
  login: KafkaLogin,
  onRefused: (error: unknown) => void,
  renewing: () => Promise<unknown> | undefined,
): SASLOptions & { mechanism: Mechanism } {
  const mechanism = login.mechanism.toUpperCase() as Mechanism;
  return {
    mechanism,
    username: login.username,
    password: async () => {
      await renewing();
      return login.password();
    },
    authenticate: (used, connection, api, username, password, _token, callback) => {
      const told: typeof callback = (error, response) => {
        if (error && classifyPlatformaticKafkaError(error).reason === 'unauthorized') onRefused(error);
        callback(error, response);
      };
      if (used === 'PLAIN') saslPlain.authenticate(api, connection, username ?? '', password ?? '', told);
      else
        saslScramSha.authenticate(
          api,
          connection,
          used.substring(6) as 'SHA-256' | 'SHA-512',
          username ?? '',
          password ?? '',
          saslScramSha.defaultCrypto,
          told,
        );
    },
  };
}
