// Reading a request body with a size limit. The limit bounds memory per request before anything is
// parsed: a declared Content-Length over it is refused without reading, and a chunked body is counted
// as it arrives and refused as soon as it passes the limit.

import { HttpError } from './http-error.mjs';

function tooLarge(limit, size) {
  return new HttpError(413, `the request body is ${size}, over the limit of ${limit} bytes (--max-body)`);
}

/** Throws the 413 HttpError for a request that declares a Content-Length over `limit`: before anything waits or reads. */
export function refuseDeclaredOver(req, limit) {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit, `${declared} bytes`);
}

/**
 * The whole body of `req` as one Buffer. Rejects with a 413 HttpError over `limit` bytes; the caller then
 * answers with `Connection: close`, because the rest of the body is never read.
 */
export function readBody(req, limit) {
  try {
    refuseDeclaredOver(req, limit);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let received = 0;
    const onData = (chunk) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit, `more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    // The client went away mid-body: nobody is left to answer, but the handler must not hang.
    const onClose = () => {
      cleanup();
      reject(new HttpError(400, 'the request body ended early'));
    };
    // A client that resets its connection mid-body ('aborted') ended it early too: not a server error.
    const onError = (error) => {
      cleanup();
      reject(error?.code === 'ECONNRESET' ? new HttpError(400, 'the request body ended early') : error);
    };
    function cleanup() {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}
