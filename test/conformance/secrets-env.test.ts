import { createEnvSecretStore } from '../../src/adapters/env/index.ts';
import { secretStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

secretStoreConformance({
  name: 'env',
  write: false,
  create: (secrets) =>
    createEnvSecretStore(
      {
        prefix: 'APP_SECRET_',
        env: {
          UNRELATED: 'not a secret',
          ...Object.fromEntries(
            Object.entries(secrets).map(([name, value]) => [
              `APP_SECRET_${name.toUpperCase().replaceAll('-', '_')}`,
              value,
            ]),
          ),
        },
      },
      silentRuntime(),
    ),
});
