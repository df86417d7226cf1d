/**
 * JSON text of a value, or the error `invalid` builds: for values JSON cannot hold (undefined,
 * functions, BigInt, cycles), which every port that stores JSON must reject before any I/O.
 */
export function toJson(value: unknown, invalid: (cause?: unknown) => Error): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw invalid(cause);
  }
  if (text === undefined) throw invalid();
  return text;
}
