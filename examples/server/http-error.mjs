// An error that is the client's to fix: its status and message go into the response as they are.
// Anything else thrown while handling a request is the server's fault and answers 500 without details.

export class HttpError extends Error {
  /**
   * @param {number} status - the HTTP status
   * @param {string} message - what was wrong, for the client to read
   * @param {Record<string, string>} [headers] - e.g. Allow for a 405
   */
  constructor(status, message, headers = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}
