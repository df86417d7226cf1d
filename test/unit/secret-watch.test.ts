// The scan the secure-variant tests end with (test/support/secret-watch.ts) finds a secret in each
// place it looks: a log line, an error's cause chain, a span attribute, a metric label, a kept
// health result; and names the place and the secret, never the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { secretWatch } from '../support/secret-watch.ts';

const secret = 'hunter2-0123456789abcdef';

async function failureOf(promise: Promise<void>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('the scan found nothing');
}

describe('secret watch', () => {
  it('passes when nothing shows a secret', async () => {
    const watch = secretWatch();
    watch.runtime.logger.info({ password: '<redacted>' }, 'connected');
    await watch.assertNoSecrets({ 'the password': secret });
  });

  it('finds a secret in a log line', async () => {
    const watch = secretWatch();
    // A field berth's logger does not redact (it does `url`, `password`, …).
    watch.runtime.logger.debug({ reply: `AUTH ${secret}` }, 'sent');
    const message = await failureOf(watch.assertNoSecrets({ 'the password': secret }));
    assert.match(message, /the password in the logs/);
    assert.equal(message.includes(secret), false, 'the failure does not print the secret');
  });

  it("finds a secret deep in an error's cause chain, kept by watch()", async () => {
    const watch = secretWatch();
    watch.runtime.logger.info('started');
    const inner = Object.assign(new Error('login refused'), { sent: { password: secret } });
    const outer = new Error('call failed', { cause: new Error('connect failed', { cause: inner }) });
    await assert.rejects(watch.watch(Promise.reject(outer)));
    assert.match(
      await failureOf(watch.assertNoSecrets({ 'the password': secret })),
      /in an error or result kept/,
    );
  });

  it('finds a secret in a span attribute and in a metric label', async () => {
    const watch = secretWatch();
    watch.runtime.logger.info('started');
    trace
      .getTracer('test')
      .startSpan('call', { attributes: { 'db.query.text': `AUTH ${secret}` } })
      .end();
    const message = await failureOf(watch.assertNoSecrets({ 'the password': secret }));
    assert.match(message, /the password in a span/);
    const metrics = secretWatch();
    metrics.runtime.logger.info('started');
    const { Counter } = await import('prom-client');
    new Counter({
      name: 'leaky_total',
      help: 'x',
      labelNames: ['server'],
      registers: [metrics.runtime.registry],
    }).inc({
      server: `u:${secret}@h`,
    });
    assert.match(await failureOf(metrics.assertNoSecrets({ 'the key': secret })), /the key in a metric/);
  });

  it('finds a secret in a kept health result', async () => {
    const watch = secretWatch();
    watch.runtime.logger.info('started');
    watch.keep({ status: 'down', error: `refused ${secret}` });
    assert.match(await failureOf(watch.assertNoSecrets({ 'the password': secret })), /kept/);
  });
});
