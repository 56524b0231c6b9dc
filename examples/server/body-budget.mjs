// The memory that request bodies may hold while they are received and parsed.
//
// Each body is bounded by --max-body, but a crowd of clients uploading at once is not: a thousand 1 MB
// uploads would be a gigabyte buffered before any is parsed. So every body takes its share of one budget
// (--max-receiving) before a byte of it is read, and gives it back once it is parsed into tensors. A
// request that does not fit waits, unread, in arrival order: the kernel's socket buffers fill and TCP
// slows its client down, which costs the server nothing. A client that leaves while waiting leaves the
// queue.

import { HttpError } from './http-error.mjs';

/** The bytes a request's body may take: its declared Content-Length, or `maxBody` for a chunked body. */
export function bodyShare(req, maxBody) {
  const declared = Number(req.headers['content-length']);
  return Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, maxBody) : maxBody;
}

/**
 * A budget of `total` bytes. `take(req, bytes)` resolves with a `release` function once `bytes` fit
 * beside the bodies already held (at once when they do, else after those ahead of it), or rejects with
 * a 499 HttpError when the client closes the connection while waiting. `bytes` must be at most `total`.
 */
export function createBodyBudget(total) {
  let held = 0;
  const queue = [];

  function grant() {
    while (queue.length > 0 && held + queue[0].bytes <= total) {
      const next = queue.shift();
      next.req.off('close', next.onClose);
      held += next.bytes;
      next.resolve(releaser(next.bytes));
    }
  }

  function releaser(bytes) {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held -= bytes;
      grant();
    };
  }

  return {
    take(req, bytes) {
      if (queue.length === 0 && held + bytes <= total) {
        held += bytes;
        return Promise.resolve(releaser(bytes));
      }
      return new Promise((resolve, reject) => {
        const entry = { req, bytes, resolve, onClose: undefined };
        entry.onClose = () => {
          queue.splice(queue.indexOf(entry), 1);
          reject(new HttpError(499, 'the client closed the connection while its body waited to be read'));
          grant(); // a smaller request behind it may fit now
        };
        req.once('close', entry.onClose);
        queue.push(entry);
      });
    },
    /** Bytes held, and requests waiting: for metrics. */
    snapshot: () => ({ held, waiting: queue.length }),
  };
}
