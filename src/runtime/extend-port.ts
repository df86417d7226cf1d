import type { Component } from '../ports/component.ts';

/**
 * A guarded port with what its factory adds (the driver's `client()`, a memory adapter's
 * records), getters kept as getters; disposing of it closes the port.
 */
export function extendPort<P extends Component, E extends object>(port: P, extension: E): P & E {
  const extended = { ...port, [Symbol.asyncDispose]: () => port.close() };
  return Object.defineProperties(extended, Object.getOwnPropertyDescriptors(extension)) as P & E;
}
