// Reading the server's /metrics: the sample values the report needs, from Prometheus' text format.

/** `{ 'name{a="1"}': value }` for every sample line; labels as written by prom-client (sorted by it). */
export function samples(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = line.slice(space + 1);
    out.set(line.slice(0, space), /^nan$/i.test(value) ? NaN : Number(value.replace(/^\+?inf$/i, 'Infinity')));
  }
  return out;
}

/** A histogram's buckets as non-cumulative counts: `{ '1': 40, '2': 3, ..., '+Inf': 0 }`. */
export function buckets(values, name) {
  const counts = {};
  let previous = 0;
  for (const [key, value] of values) {
    const match = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(key);
    if (!match) continue;
    counts[match[1]] = value - previous;
    previous = value;
  }
  return counts;
}

/** A histogram's mean (sum / count), or null when it holds nothing. */
export function mean(values, name) {
  const count = values.get(`${name}_count`);
  return count > 0 ? values.get(`${name}_sum`) / count : null;
}
