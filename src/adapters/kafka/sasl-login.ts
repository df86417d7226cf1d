// kafkajs's SASL login with the password read at each login, and a refused login told to berth:
// kafkajs reports a login refused on reconnecting as the "Closed connection" that follows it.
import type { SASLOptions } from 'kafkajs';
import type { KafkaLogin } from '../shared/kafka-options.ts';

type AuthenticationProvider = (args: unknown) => { authenticate(): Promise<void> };

/**
 * The `sasl` option for kafkajs. kafkajs reads `password` at every login and stores its built-in
 * mechanism on the object as `authenticationProvider` (its option for custom mechanisms): the
 * accessor below keeps that one and hands it back wrapped, so `onRefused` hears each refusal.
 */
export function kafkajsLogin(login: KafkaLogin, onRefused: (error: unknown) => void): SASLOptions {
  let builtIn: AuthenticationProvider | undefined;
  const refusedTold =
    (provider: AuthenticationProvider): AuthenticationProvider =>
    (args) => {
      const mechanism = provider(args);
      return {
        authenticate: () =>
          mechanism.authenticate().catch((error: unknown) => {
            onRefused(error);
            throw error;
          }),
      };
    };
  const options = {
    mechanism: login.mechanism,
    username: login.username,
    get password(): string {
      return login.password();
    },
    get authenticationProvider(): AuthenticationProvider | undefined {
      return builtIn && refusedTold(builtIn);
    },
    set authenticationProvider(provider: AuthenticationProvider) {
      builtIn = provider;
    },
  };
  return options;
}
