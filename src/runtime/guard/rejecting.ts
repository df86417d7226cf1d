/** Runs `body`, turning a synchronous throw (a failed check) into a rejection, so a port reports every failure the same way. */
export function rejecting<T>(body: () => Promise<T>): Promise<T> {
  try {
    return body();
  } catch (error) {
    return Promise.reject(error);
  }
}
