import type { Broker, HandlerMiddleware, MessageHandler } from '../../ports/broker.ts';

/** The handler behind its middleware, the first outermost; each attempt runs the whole chain. */
export function behindMiddleware<T>(
  middleware: readonly HandlerMiddleware[],
  handler: MessageHandler<T>,
): MessageHandler<T> {
  if (middleware.length === 0) return handler;
  return (message, signal) => {
    const step = (index: number): Promise<void> => {
      if (index === middleware.length) return handler(message, signal);
      let called = false;
      return middleware[index]!(message, signal, () => {
        // A second call would run the handler twice in one attempt.
        if (called) return Promise.reject(new Error('a middleware called next() twice'));
        called = true;
        return step(index + 1);
      });
    };
    return step(0);
  };
}

/**
 * The broker with `middleware` around the handler of every subscription made through it,
 * outside the subscription's own; publishing, health and close are the broker's.
 */
export function withMiddleware(broker: Broker, ...middleware: HandlerMiddleware[]): Broker {
  return {
    ...broker,
    subscribe: (topic, handler, options) =>
      broker.subscribe(topic, handler, {
        ...options,
        middleware: [...middleware, ...(options?.middleware ?? [])],
      }),
  };
}
