// What the service reports about itself, in Prometheus' text format through prom-client: the format every
// scraper reads (Prometheus, Grafana Agent, Datadog, OpenTelemetry's collector).
//
//   torchrnn_http_requests_total{route,status}            answers, by route and status
//   torchrnn_http_request_duration_seconds{route,status}  their latency, from the request to the answer's end
//   torchrnn_http_requests_in_flight                      requests being handled now
//   torchrnn_batch_size                                   sequences per forward (1 per request without batching)
//   torchrnn_batch_queue_depth                            requests waiting for a batch now
//   torchrnn_batch_queue_wait_seconds                     each request's wait for its batch to start
//   torchrnn_forward_seconds                              each forward's compute time
//   torchrnn_answers_*                                    the answers' memory budget (answer.mjs)
//   torchrnn_bodies_*                                     the request bodies' memory budget (body-budget.mjs)
//   nodejs_eventloop_lag_*, process_resident_memory_bytes, ...   prom-client's default metrics
//
// Routes are labelled by the route table's names, and anything else as "other": a label per path a client
// invents would let any client grow the series without bound.

import client from 'prom-client';

// The event-loop monitor's sampling period, in ms. prom-client's nodejs_eventloop_lag_p99_seconds and its
// kin cover the time since the previous scrape, and include this period: an idle loop reads about 1 ms.
const LOOP_RESOLUTION_MS = 1;

// Latency buckets from 1 ms to 10 s: a small model answers in a millisecond, a loaded replica in seconds.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/**
 * The registry and the recorders the server calls. `sources` are read at each scrape: `inFlight()`,
 * `queued()`, `answers()` (answer.mjs's snapshot) and `bodies()` (body-budget.mjs's).
 */
export function createMetrics(sources) {
  const register = new client.Registry();
  client.collectDefaultMetrics({ register, eventLoopMonitoringPrecision: LOOP_RESOLUTION_MS });
  const registers = [register];

  const requests = new client.Counter({
    name: 'torchrnn_http_requests_total',
    help: 'HTTP requests answered, by route and status.',
    labelNames: ['route', 'status'],
    registers,
  });
  const duration = new client.Histogram({
    name: 'torchrnn_http_request_duration_seconds',
    help: 'Time from a request to the end of its answer, by route and status.',
    labelNames: ['route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  new client.Gauge({
    name: 'torchrnn_http_requests_in_flight',
    help: 'HTTP requests being handled now (this scrape left out).',
    registers,
    collect() {
      this.set(sources.inFlight());
    },
  });
  const batchSize = new client.Histogram({
    name: 'torchrnn_batch_size',
    help: 'Sequences per forward: the batch a forward ran (1 per single-sequence request without batching).',
    buckets: BATCH_BUCKETS,
    registers,
  });
  new client.Gauge({
    name: 'torchrnn_batch_queue_depth',
    help: 'Requests waiting for a batch to start (what --batch-queue bounds).',
    registers,
    collect() {
      this.set(sources.queued());
    },
  });
  const queueWait = new client.Histogram({
    name: 'torchrnn_batch_queue_wait_seconds',
    help: "Each request's wait from arriving at the batcher to its batch's start.",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const forward = new client.Histogram({
    name: 'torchrnn_forward_seconds',
    help: 'Compute time of each forward (a batch, or one request without batching).',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  /** A gauge per [field, name, help], each reading its field of `snapshot()` at a scrape. */
  const snapshotGauges = (snapshot, fields) => {
    for (const [field, name, help] of fields) {
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(snapshot()[field]);
        },
      });
    }
  };
  snapshotGauges(sources.answers, [
    ['open', 'torchrnn_answers_open', 'Answers holding a share of --max-in-flight.'],
    ['reservedBytes', 'torchrnn_answers_reserved_bytes', 'Bytes of --max-in-flight the open answers hold.'],
    ['waitingForClient', 'torchrnn_answers_waiting_for_client', 'Answers stalled on a client that does not read.'],
    ['bufferedBytes', 'torchrnn_answers_buffered_bytes', "Bytes written but not yet taken by the clients' connections."],
  ]);
  snapshotGauges(sources.bodies, [
    ['held', 'torchrnn_bodies_held_bytes', 'Bytes of --max-receiving that request bodies being received or parsed hold.'],
    ['waiting', 'torchrnn_bodies_waiting', 'Requests whose body waits, unread, for a share of --max-receiving.'],
  ]);

  return {
    contentType: register.contentType,
    /** An answer was sent (or given up on): `route` is a route table key or 'other'. */
    answered(route, status, seconds) {
      requests.inc({ route, status });
      duration.observe({ route, status }, seconds);
    },
    /** A forward finished: DynamicBatcher's BatchReport, or one of the same form for a direct forward. */
    batch(report) {
      batchSize.observe(report.sequences);
      for (const ms of report.queueWaitMs) queueWait.observe(ms / 1000);
      forward.observe(report.forwardMs / 1000);
    },
    /** The exposition text. */
    text: () => register.metrics(),
    /** Starts a new measurement window (load tests): counters and histograms to zero, the loop's monitor too. */
    async reset() {
      register.resetMetrics();
      // A scrape restarts prom-client's event-loop histogram; its text is not wanted.
      await register.metrics();
    },
  };
}
