// Event source mappings benchmark: `node bench/event-sources.mjs [--quick]` after `npm run build`,
// as root (it adds and deletes a RabbitMQ virtual host with rabbitmqctl). Needs the machine's
// RabbitMQ (127.0.0.1:5672, guest/guest), NATS with JetStream (127.0.0.1:4222) and Redis
// (127.0.0.1:6379). Starts its own `lamina server` (temp data directory) and measures:
//   throughput: records pre-loaded into a queue or stream, then the time from enabling the mapping
//     (RabbitMQ: UpdateEventSourceMapping Enabled true; streams: CreateEventSourceMapping with
//     TRIM_HORIZON) until the last batch was handled, for a no-op function; the broker confirms
//     that everything was acknowledged;
//   latency: one record at a time (the next once the previous was handled), each carrying its
//     publish time; the function reports `Date.now() - t` to an HTTP listener of this process,
//     which it reaches as host.lamina.internal (`--function-allow`). RabbitMQ also with records
//     250 ms apart, so that each finds the function's environment frozen and the consumer idle.
// Rates come from the function's REPORT lines in the server's log files (their count is the
// number of invocations); CPU per 1,000 records from /proc for the server, its environments, the
// broker and this process.
// Everything it creates (virtual host, streams and their consumers/groups, the server's data
// directory) is removed afterwards. Prints one JSON document on stdout, progress on stderr.
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  InvokeCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { environmentsCpuMs, processCpuMs } from './cpu-time.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { cpuCounters, cpuShares, loadAverage, machineInfo } from './machine-info.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

const PLANS = {
  full: {
    rounds: 2,
    rabbitMessages: 20_000,
    streamRecords: 50_000,
    latencySamples: 300,
    streamLatencySamples: 200,
    latencyWarmup: 20,
    spacedSamples: 100,
  },
  quick: {
    rounds: 2,
    rabbitMessages: 3_000,
    streamRecords: 5_000,
    latencySamples: 60,
    streamLatencySamples: 40,
    latencyWarmup: 10,
    spacedSamples: 20,
  },
};

const RABBIT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const NATS_SERVER = '127.0.0.1:4222';
const REDIS_URL = 'redis://127.0.0.1:6379';
/** 1,769 MB is one vCPU of quota: the function is not held back by its own CPU limit. */
const MEMORY_SIZE = 1769;
const NOOP = 'es-noop';
const NOOP_SOURCE = 'exports.handler = async () => {};\n';
const REPORTER = 'es-latency';
/** Padding that brings a record's body to about 100 bytes. */
const PAD = 'x'.repeat(64);
const QUEUE_BATCH = 10;
const STREAM_BATCH = 100;
const ROUND_DEADLINE_MS = 600_000;
const SAMPLE_TIMEOUT_MS = 15_000;
/** The pause between records of the spaced latency variant: the environment is frozen (50 ms). */
const SPACING_MS = 250;

/** The latency function: the age of each record at the handler's start, posted to the bench. */
const reporterSource = (port) => `const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const post = (body, keepAlive) => new Promise((resolve, reject) => {
  const req = http.request({ host: 'host.lamina.internal', port: ${port}, method: 'POST', path: '/',
    agent: keepAlive ? agent : false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => { res.resume(); res.on('end', resolve); res.on('error', reject); });
  req.on('error', reject);
  req.end(body);
});
exports.handler = async (event) => {
  const now = Date.now();
  const values = [];
  for (const list of Object.values(event.rmqMessagesByQueue ?? {})) for (const m of list) values.push(m.data);
  for (const list of Object.values(event.records ?? {})) for (const r of list) values.push(r.value);
  const samples = values.map((v) => {
    const body = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
    return { id: body.id, ms: now - body.t };
  });
  const body = JSON.stringify({ samples, batch: values.length });
  // A kept-alive connection may have been closed while the environment was frozen: once more.
  try { await post(body, true); } catch { await post(body, false); }
};
`;

const progress = (message) => process.stderr.write(`[bench] ${message}\n`);
const body = (fields) => Buffer.from(JSON.stringify({ ...fields, pad: PAD }));

// ---------------------------------------------------------------------------------------------
// Helpers: polling, mappings, the function's REPORT lines, CPU time.

/** Calls `probe` every `intervalMs` until it answers something other than undefined. */
async function until(label, probe, { intervalMs = 10, timeoutMs = ROUND_DEADLINE_MS } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${label}`);
    await delay(intervalMs);
  }
}

async function getMapping(client, uuid) {
  return client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
}

/** Waits until the mapping shows `state`; resolves with the mapping. */
async function waitForState(client, uuid, state, timeoutMs = 60_000) {
  let last;
  try {
    return await until(
      `mapping ${uuid} ${state}`,
      async () => {
        last = await getMapping(client, uuid);
        return last.State === state ? last : undefined;
      },
      { intervalMs: 20, timeoutMs },
    );
  } catch (error) {
    throw new Error(
      `${error.message} (state ${last?.State}, ${last?.StateTransitionReason}, ` +
        `${last?.LastProcessingResult})`,
    );
  }
}

async function deleteMapping(client, uuid) {
  await client.send(new DeleteEventSourceMappingCommand({ UUID: uuid })).catch((error) => {
    if (error.name !== 'ResourceNotFoundException') throw error;
  });
  await until(
    `mapping ${uuid} deleted`,
    () =>
      getMapping(client, uuid).then(
        () => undefined,
        (error) => (error.name === 'ResourceNotFoundException' ? true : undefined),
      ),
    { intervalMs: 50, timeoutMs: 60_000 },
  );
}

/** Invokes the function once, directly, so that a warm environment is there before the clock. */
async function warmFunction(client, name) {
  const answer = await client.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }),
  );
  if (answer.FunctionError !== undefined)
    throw new Error(`${name} failed: ${answer.FunctionError}`);
}

/**
 * The function's REPORT lines from the server's log files (`<data-dir>/logs/<group>/*.log`, one
 * JSON line `{t, m}` per event): their time and Duration, from `fromMs` on.
 */
function reportLines(dataDir, functionName, fromMs) {
  const dir = join(dataDir, 'logs', encodeURIComponent(`/aws/lambda/${functionName}`));
  if (!existsSync(dir)) return [];
  const reports = [];
  let errors = 0;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.log')))
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const { t, m } = JSON.parse(line);
        if (t < fromMs) continue;
        // A no-op function logs nothing of its own: any error line is a failed invocation.
        if (/\tERROR\t|Task timed out|Runtime\.|Status: error/.test(m)) errors += 1;
        if (!m.startsWith('REPORT RequestId')) continue;
        const duration = /\tDuration: ([\d.]+) ms/.exec(m);
        reports.push({ t, durationMs: duration === null ? null : Number(duration[1]) });
      } catch {
        // a line being written
      }
    }
  reports.sort((a, b) => a.t - b.t);
  reports.errors = errors;
  return reports;
}

/** The REPORT lines once the server's log batches (25 ms) have been written: two equal reads. */
async function settledReportLines(dataDir, functionName, fromMs) {
  let previous = -1;
  for (let i = 0; i < 50; i += 1) {
    const lines = reportLines(dataDir, functionName, fromMs);
    if (lines.length === previous) return lines;
    previous = lines.length;
    await delay(150);
  }
  return reportLines(dataDir, functionName, fromMs);
}

/** Pids of processes whose command is `name` (the brokers). */
function pidsNamed(name) {
  const pids = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)))
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name) pids.push(Number(pid));
    } catch {
      // gone
    }
  return pids;
}

const BROKER_PROCESSES = { rabbitmq: 'beam.smp', nats: 'nats-server', redis: 'redis-server' };

/** CPU time so far of the server, its environments, the broker and this process, in ms. */
function cpuSnapshot(serverPid, broker) {
  const usage = process.cpuUsage();
  return {
    server: processCpuMs(serverPid),
    environments: environmentsCpuMs(serverPid),
    broker: pidsNamed(BROKER_PROCESSES[broker]).reduce((sum, pid) => sum + processCpuMs(pid), 0),
    bench: (usage.user + usage.system) / 1000,
    machine: cpuCounters(),
  };
}

/** CPU ms per 1,000 records between two snapshots, and how the machine's CPU time went. */
function cpuBetween(before, after, records) {
  const per = (key) => round(((after[key] - before[key]) * 1000) / records);
  return {
    cpu_ms_per_1000_records: {
      lamina_server: per('server'),
      function_environments: per('environments'),
      broker: per('broker'),
      benchmark_process: per('bench'),
    },
    machine_cpu: cpuShares(before.machine, after.machine),
  };
}

/** What the throughput rounds add up to, against a target rate. */
function throughputSummary(rounds, target) {
  const rates = rounds.map((r) => r.records_per_second);
  return {
    rounds,
    records_per_second_per_round: rates,
    best_records_per_second: Math.max(...rates),
    worst_records_per_second: Math.min(...rates),
    target_records_per_second: target,
    met_in_every_round: rates.every((rate) => rate >= target),
  };
}

/** Round figures common to every source, from the clock start `t0` and the REPORT lines. */
function roundFigures(records, t0, doneAt, reports, cpu) {
  const last = reports.at(-1);
  const endAt = Math.max(last?.t ?? doneAt, 0);
  const durations = reports.map((r) => r.durationMs).filter((d) => d !== null);
  return {
    records,
    // From enabling (or creating) the mapping to the end of its last invocation.
    seconds: round((endAt - t0) / 1000),
    records_per_second: Math.round(records / ((endAt - t0) / 1000)),
    // From the same start until the broker showed every record acknowledged (polled).
    broker_confirmed_seconds: round((doneAt - t0) / 1000),
    first_invocation_ended_after_ms: reports[0] === undefined ? null : reports[0].t - t0,
    invocations: reports.length,
    // Records ÷ invocations (every record was acknowledged once, none failed).
    mean_records_per_invocation: round(records / reports.length),
    // Wall time per batch cycle: read, invoke, settle (acknowledge), next read.
    ms_per_invocation: round((endAt - t0) / reports.length),
    function_error_log_lines: reports.errors ?? 0,
    function_duration_ms: {
      p50: summarize(durations).p50_ms,
      sum: round(durations.reduce((sum, d) => sum + d, 0)),
    },
    ...cpu,
  };
}

// ---------------------------------------------------------------------------------------------
// The report listener: the latency function posts its samples here.

async function startReportListener() {
  const waiters = new Map();
  let unexpected = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(204).end();
      try {
        const { samples } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const sample of samples) {
          const waiter = waiters.get(sample.id);
          if (waiter === undefined) unexpected += 1;
          else {
            waiters.delete(sample.id);
            waiter({ ms: sample.ms });
          }
        }
      } catch {
        unexpected += 1;
      }
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return {
    port: server.address().port,
    /** Resolves with the sample of record `id` once the function posted it. */
    wait: (id) =>
      new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(id);
          reject(new Error(`no report of ${id} after ${SAMPLE_TIMEOUT_MS} ms`));
        }, SAMPLE_TIMEOUT_MS);
        waiters.set(id, (sample) => {
          clearTimeout(timer);
          resolvePromise(sample);
        });
      }),
    unexpected: () => unexpected,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolvePromise) => server.close(() => resolvePromise()));
    },
  };
}

/**
 * `rounds` rounds of `warmup` + `samples` records published one at a time by `publish(id, body)`,
 * each waiting for the function's report before the next.
 */
async function measureLatency(label, listener, plan, samples, publish, spacingMs = 0) {
  const rounds = [];
  const all = [];
  for (let r = 1; r <= plan.rounds; r += 1) {
    progress(
      `${label} latency round ${r}: ${plan.latencyWarmup} + ${samples} records, one at a time` +
        (spacingMs > 0 ? `, ${spacingMs} ms apart` : ''),
    );
    const handlerMs = [];
    const roundTripMs = [];
    for (let i = 0; i < plan.latencyWarmup + samples; i += 1) {
      if (spacingMs > 0) await delay(spacingMs);
      const id = `${label}-${r}-${i}`;
      const reported = listener.wait(id);
      const started = performance.now();
      const t = Date.now();
      await publish(id, body({ id, t }));
      const { ms } = await reported;
      const roundTrip = performance.now() - started;
      if (i < plan.latencyWarmup) continue;
      handlerMs.push(ms);
      roundTripMs.push(roundTrip);
    }
    all.push(...handlerMs);
    rounds.push({
      round: r,
      publish_to_handler_ms: summarize(handlerMs),
      publish_to_report_received_ms: summarize(roundTripMs),
    });
  }
  return { rounds, publish_to_handler_ms_all_rounds: summarize(all) };
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ

async function rabbitmqctl(args) {
  return (await run('rabbitmqctl', args)).stdout;
}

/** Ready and unacknowledged messages of a queue, as the broker counts them (rabbitmqctl). */
async function queueCounts(vhost, queue) {
  const out = await rabbitmqctl([
    'list_queues',
    '-p',
    vhost,
    '-q',
    '--no-table-headers',
    'name',
    'messages_ready',
    'messages_unacknowledged',
  ]);
  for (const line of out.split('\n')) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name === queue) return { ready: Number(ready), unacked: Number(unacked) };
  }
  throw new Error(`queue ${queue} not listed by rabbitmqctl`);
}

/** A virtual host of the benchmark's own, with a publishing connection. */
async function rabbitVhost(cleanups) {
  const name = `lamina-bench-${randomBytes(4).toString('hex')}`;
  await rabbitmqctl(['add_vhost', name]);
  cleanups.push(() => rabbitmqctl(['delete_vhost', name]));
  await rabbitmqctl(['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  const url = `${RABBIT_URL}/${encodeURIComponent(name)}`;
  const model = await amqpConnect(url);
  cleanups.push(() => model.close().catch(() => undefined));
  const channel = await model.createConfirmChannel();
  return {
    name,
    url,
    channel,
    async queue(queue) {
      await channel.assertQueue(queue, { durable: true });
    },
    /** Publishes `count` persistent messages and waits for the broker's confirms. */
    async load(queue, count, round) {
      for (let i = 0; i < count; i += 1) {
        const ok = channel.sendToQueue(queue, body({ i, round, t: Date.now() }), {
          persistent: true,
          contentType: 'application/json',
        });
        if (!ok) await new Promise((resolvePromise) => channel.once('drain', resolvePromise));
      }
      await channel.waitForConfirms();
    },
    publish(queue, bytes) {
      channel.sendToQueue(queue, bytes, { persistent: true, contentType: 'application/json' });
      return Promise.resolve();
    },
    async ready(queue) {
      return (await channel.checkQueue(queue)).messageCount;
    },
  };
}

/** Lamina's broker registry (POST /lamina/2026-11-01/brokers), through the CLI's signed client. */
async function registerBroker(endpoint, name, url) {
  const { LaminaApiClient } = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/src/cli/lamina-api-client.js')).href
  );
  const api = new LaminaApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: BENCH_CREDENTIALS,
  });
  const { json } = await api.request(
    'POST',
    '/lamina/2026-11-01/brokers',
    {},
    {
      BrokerName: name,
      Url: url,
    },
  );
  return json.BrokerArn;
}

/**
 * Throughput rounds of one RabbitMQ mapping (created disabled): each round loads the queue, then
 * enables the mapping and times until the last batch was handled and the broker shows no message
 * ready or unacknowledged; the mapping is disabled again for the next round.
 */
async function rabbitThroughput(ctx, label, windowSeconds) {
  const { client, server, vhost, brokerArn, plan } = ctx;
  const queue = `throughput-${label}`;
  await vhost.queue(queue);
  const created = await client.send(
    new CreateEventSourceMappingCommand({
      FunctionName: NOOP,
      EventSourceArn: brokerArn,
      Queues: [queue],
      SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
      BatchSize: QUEUE_BATCH,
      ...(windowSeconds === undefined ? {} : { MaximumBatchingWindowInSeconds: windowSeconds }),
      Enabled: false,
    }),
  );
  const uuid = created.UUID;
  try {
    await waitForState(client, uuid, 'Disabled');
    const rounds = [];
    for (let r = 1; r <= plan.rounds; r += 1) {
      const count = plan.rabbitMessages;
      progress(`rabbitmq ${label} round ${r}: loading ${count} messages`);
      const loadStarted = performance.now();
      await vhost.load(queue, count, r);
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const ready = await vhost.ready(queue);
      if (ready !== count) throw new Error(`${ready} messages ready, ${count} published`);
      await warmFunction(client, NOOP);
      progress(`rabbitmq ${label} round ${r}: enabling the mapping`);
      const cpu0 = cpuSnapshot(server.pid, 'rabbitmq');
      const t0 = Date.now();
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
      const enabled = waitForState(client, uuid, 'Enabled').then(() => Date.now());
      let lastProgress = Date.now();
      const emptyAt = await until(`${queue} empty`, async () => {
        const left = await vhost.ready(queue);
        if (Date.now() - lastProgress > 5000) {
          lastProgress = Date.now();
          progress(`rabbitmq ${label} round ${r}: ${left} messages ready`);
        }
        return left === 0 ? Date.now() : undefined;
      });
      const cpu1 = cpuSnapshot(server.pid, 'rabbitmq');
      const enabledAt = await enabled;
      // The management API is not there: rabbitmqctl (about 0.6 s a call) confirms the acks.
      const doneAt = await until(
        `${queue} acknowledged`,
        async () => {
          const counts = await queueCounts(vhost.name, queue);
          return counts.ready === 0 && counts.unacked === 0 ? Date.now() : undefined;
        },
        { intervalMs: 0, timeoutMs: 60_000 },
      );
      const reports = await settledReportLines(server.dataDir, NOOP, t0);
      const mapping = await getMapping(client, uuid);
      const figures = roundFigures(count, t0, doneAt, reports, cpuBetween(cpu0, cpu1, count));
      rounds.push({
        round: r,
        load_seconds: round(loadSeconds),
        enabled_after_ms: enabledAt - t0,
        queue_emptied_seconds: round((emptyAt - t0) / 1000),
        ...figures,
        last_processing_result: mapping.LastProcessingResult,
      });
      progress(
        `rabbitmq ${label} round ${r}: ${figures.records_per_second} messages/s, ` +
          `${figures.invocations} invocations`,
      );
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
      await waitForState(client, uuid, 'Disabled');
    }
    return rounds;
  } finally {
    await deleteMapping(client, uuid);
    await vhost.channel.deleteQueue(queue).catch(() => undefined);
  }
}

async function rabbitLatency(ctx, listener, spacingMs = 0) {
  const { client, vhost, brokerArn, plan } = ctx;
  const queue = 'latency';
  await vhost.queue(queue);
  const created = await client.send(
    new CreateEventSourceMappingCommand({
      FunctionName: REPORTER,
      EventSourceArn: brokerArn,
      Queues: [queue],
      SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
      BatchSize: QUEUE_BATCH,
      MaximumBatchingWindowInSeconds: 0,
    }),
  );
  try {
    await waitForState(client, created.UUID, 'Enabled');
    return await measureLatency(
      spacingMs > 0 ? 'rabbitmq-spaced' : 'rabbitmq',
      listener,
      plan,
      spacingMs > 0 ? plan.spacedSamples : plan.latencySamples,
      (_, bytes) => vhost.publish(queue, bytes),
      spacingMs,
    );
  } finally {
    await deleteMapping(client, created.UUID);
    await vhost.channel.deleteQueue(queue).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// NATS JetStream and Redis Streams

/** One NATS connection; streams of the benchmark's own, deleted afterwards. */
async function natsBroker(cleanups) {
  const nc = await natsConnect({ servers: NATS_SERVER });
  cleanups.push(() => nc.close().catch(() => undefined));
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const prefix = `lamina_bench_${randomBytes(4).toString('hex')}`;
  return {
    kind: 'nats',
    endpoints: { NATS_SERVERS: [NATS_SERVER] },
    async create(suffix) {
      const name = `${prefix}_${suffix}`;
      await jsm.streams.add({ name, subjects: [`${name}.>`] });
      cleanups.push(() => jsm.streams.delete(name).catch(() => undefined));
      return name;
    },
    async load(name, count, roundNo) {
      const window = 500;
      for (let i = 0; i < count; i += window) {
        const acks = [];
        for (let j = i; j < Math.min(count, i + window); j += 1)
          acks.push(js.publish(`${name}.p`, body({ i: j, round: roundNo, t: Date.now() })));
        await Promise.all(acks);
      }
      const info = await jsm.streams.info(name);
      if (info.state.messages !== count)
        throw new Error(`${info.state.messages} records in ${name}, ${count} published`);
      return info.state.last_seq;
    },
    publish: (name, bytes) => js.publish(`${name}.p`, bytes),
    /** Whether the mapping's durable consumer has acknowledged everything up to `lastSeq`. */
    async caughtUp(name, uuid, lastSeq) {
      const info = await jsm.consumers.info(name, `lamina-${uuid}`).catch(() => undefined);
      if (info === undefined) return { done: false, left: null };
      return {
        done:
          info.num_pending === 0 &&
          info.num_ack_pending === 0 &&
          info.ack_floor.stream_seq >= lastSeq,
        left: info.num_pending + info.num_ack_pending,
      };
    },
    async remove(name) {
      await jsm.streams.delete(name).catch(() => undefined);
    },
  };
}

/** One Redis connection; stream keys of the benchmark's own, deleted afterwards. */
async function redisBroker(cleanups) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  cleanups.push(() => redis.quit().catch(() => undefined));
  const prefix = `lamina-bench-${randomBytes(4).toString('hex')}`;
  return {
    kind: 'redis',
    endpoints: { REDIS_URLS: [REDIS_URL] },
    async create(suffix) {
      const name = `${prefix}-${suffix}`;
      // The stream must exist before the mapping reads it: add and trim one entry.
      await redis.xadd(name, '*', 'init', '1');
      await redis.xtrim(name, 'MAXLEN', 0);
      cleanups.push(() => redis.del(name).catch(() => undefined));
      return name;
    },
    async load(name, count, roundNo) {
      let lastId;
      for (let i = 0; i < count; i += 1000) {
        const pipeline = redis.pipeline();
        for (let j = i; j < Math.min(count, i + 1000); j += 1)
          pipeline.xadd(name, '*', 'value', body({ i: j, round: roundNo, t: Date.now() }));
        const results = await pipeline.exec();
        for (const [error, id] of results) {
          if (error !== null) throw error;
          lastId = id;
        }
      }
      const length = await redis.xlen(name);
      if (length !== count) throw new Error(`${length} entries in ${name}, ${count} added`);
      return lastId;
    },
    publish: (name, bytes) => redis.xadd(name, '*', 'value', bytes),
    /** Whether the mapping's consumer group has read and acknowledged everything. */
    async caughtUp(name, uuid, lastId) {
      const groups = await redis.xinfo('GROUPS', name);
      for (const flat of groups) {
        const group = {};
        for (let i = 0; i + 1 < flat.length; i += 2) group[flat[i]] = flat[i + 1];
        if (group.name !== `lamina-${uuid}`) continue;
        const lag = group.lag === null ? null : Number(group.lag);
        return {
          done: group['last-delivered-id'] === lastId && group.pending === 0 && lag === 0,
          left: lag === null ? null : lag + group.pending,
        };
      }
      return { done: false, left: null };
    },
    async remove(name) {
      await redis.del(name);
    },
  };
}

/**
 * Throughput rounds of a stream: each round a new stream, loaded, then a mapping created with
 * TRIM_HORIZON; timed until the broker shows every record acknowledged by its consumer.
 */
async function streamThroughput(ctx, broker) {
  const { client, server, plan } = ctx;
  const label = broker.kind;
  const rounds = [];
  for (let r = 1; r <= plan.rounds; r += 1) {
    const count = plan.streamRecords;
    const name = await broker.create(`throughput${r}`);
    progress(`${label} round ${r}: loading ${count} records into ${name}`);
    const loadStarted = performance.now();
    const last = await broker.load(name, count, r);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await warmFunction(client, NOOP);
    progress(`${label} round ${r}: creating the mapping (TRIM_HORIZON)`);
    const cpu0 = cpuSnapshot(server.pid, label);
    const t0 = Date.now();
    const created = await client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: NOOP,
        SelfManagedEventSource: { Endpoints: broker.endpoints },
        Topics: [name],
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: STREAM_BATCH,
      }),
    );
    const uuid = created.UUID;
    try {
      const enabled = waitForState(client, uuid, 'Enabled').then(() => Date.now());
      let lastProgress = Date.now();
      const doneAt = await until(`${name} consumed`, async () => {
        const { done, left } = await broker.caughtUp(name, uuid, last);
        if (Date.now() - lastProgress > 5000) {
          lastProgress = Date.now();
          progress(`${label} round ${r}: ${left} records not yet acknowledged`);
        }
        return done ? Date.now() : undefined;
      });
      const cpu1 = cpuSnapshot(server.pid, label);
      const enabledAt = await enabled;
      const reports = await settledReportLines(server.dataDir, NOOP, t0);
      const mapping = await getMapping(client, uuid);
      const figures = roundFigures(count, t0, doneAt, reports, cpuBetween(cpu0, cpu1, count));
      rounds.push({
        round: r,
        load_seconds: round(loadSeconds),
        enabled_after_ms: enabledAt - t0,
        ...figures,
        last_processing_result: mapping.LastProcessingResult,
      });
      progress(
        `${label} round ${r}: ${figures.records_per_second} records/s, ` +
          `${figures.invocations} invocations`,
      );
    } finally {
      await deleteMapping(client, uuid);
      // Deleting the stream (or key) removes the mapping's consumer (or group) with it.
      await broker.remove(name);
    }
  }
  return rounds;
}

async function streamLatency(ctx, broker, listener) {
  const { client, plan } = ctx;
  const name = await broker.create('latency');
  const created = await client.send(
    new CreateEventSourceMappingCommand({
      FunctionName: REPORTER,
      SelfManagedEventSource: { Endpoints: broker.endpoints },
      Topics: [name],
      StartingPosition: 'LATEST',
      BatchSize: STREAM_BATCH,
      MaximumBatchingWindowInSeconds: 0,
    }),
  );
  try {
    await waitForState(client, created.UUID, 'Enabled');
    return await measureLatency(
      broker.kind,
      listener,
      plan,
      plan.streamLatencySamples,
      (_, bytes) => broker.publish(name, bytes),
    );
  } finally {
    await deleteMapping(client, created.UUID);
    await broker.remove(name);
  }
}

// ---------------------------------------------------------------------------------------------

async function benchmark(mode, cleanups) {
  const plan = PLANS[mode];
  const listener = await startReportListener();
  cleanups.push(() => listener.close());
  progress(`starting lamina server (--function-allow 127.0.0.1:${listener.port})`);
  const server = await startLaminaServer(REPO_ROOT, {
    args: ['--function-allow', `127.0.0.1:${listener.port}`],
  });
  cleanups.push(() => server.stop());
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => client.destroy());
  try {
    await deployFunction(client, NOOP, NOOP_SOURCE, { memorySize: MEMORY_SIZE });
    await deployFunction(client, REPORTER, reporterSource(listener.port), {
      memorySize: MEMORY_SIZE,
    });

    const vhost = await rabbitVhost(cleanups);
    const brokerArn = await registerBroker(server.endpoint, 'bench-rabbitmq', vhost.url);
    const ctx = { client, server, vhost, brokerArn, plan };

    const rabbitDefault = await rabbitThroughput(ctx, 'default-window', undefined);
    const rabbitWindow0 = await rabbitThroughput(ctx, 'window-0', 0);
    const rabbitLatencyResult = await rabbitLatency(ctx, listener);
    const rabbitSpaced = await rabbitLatency(ctx, listener, SPACING_MS);

    const nats = await natsBroker(cleanups);
    const natsRounds = await streamThroughput(ctx, nats);
    const natsLatency = await streamLatency(ctx, nats, listener);

    const redis = await redisBroker(cleanups);
    const redisRounds = await streamThroughput(ctx, redis);
    const redisLatency = await streamLatency(ctx, redis, listener);

    const rabbitTarget = 2000;
    const streamTarget = 5000;
    const result = {
      rabbitmq: {
        throughput_batch_10_default_window: throughputSummary(rabbitDefault, rabbitTarget),
        throughput_batch_10_window_0: throughputSummary(rabbitWindow0, rabbitTarget),
        latency_batch_10_window_0: rabbitLatencyResult,
        [`latency_batch_10_window_0_records_${SPACING_MS}_ms_apart`]: rabbitSpaced,
      },
      nats_jetstream: {
        throughput_batch_100_default_window: throughputSummary(natsRounds, streamTarget),
        latency_batch_100_window_0: natsLatency,
      },
      redis_streams: {
        throughput_batch_100_default_window: throughputSummary(redisRounds, streamTarget),
        latency_batch_100_window_0: redisLatency,
      },
      reports_not_waited_for: listener.unexpected(),
    };
    const p50 = rabbitLatencyResult.publish_to_handler_ms_all_rounds.p50_ms;
    const rabbitBest = Math.max(
      result.rabbitmq.throughput_batch_10_default_window.best_records_per_second,
      result.rabbitmq.throughput_batch_10_window_0.best_records_per_second,
    );
    const streamTargetOf = (summary) => ({
      per_round: summary.records_per_second_per_round,
      target: streamTarget,
      met_in_every_round: summary.met_in_every_round,
    });
    result.targets = {
      rabbitmq_2000_messages_per_second_batch_10: {
        default_window_per_round:
          result.rabbitmq.throughput_batch_10_default_window.records_per_second_per_round,
        window_0_per_round:
          result.rabbitmq.throughput_batch_10_window_0.records_per_second_per_round,
        best: rabbitBest,
        target: rabbitTarget,
        met_default_window_every_round:
          result.rabbitmq.throughput_batch_10_default_window.met_in_every_round,
        met_window_0_every_round: result.rabbitmq.throughput_batch_10_window_0.met_in_every_round,
      },
      rabbitmq_p50_publish_to_handler_20_ms_window_0: {
        p50_ms: p50,
        per_round_p50_ms: rabbitLatencyResult.rounds.map((r) => r.publish_to_handler_ms.p50_ms),
        target_ms: 20,
        met: p50 <= 20,
        records_250_ms_apart_p50_ms: rabbitSpaced.publish_to_handler_ms_all_rounds.p50_ms,
      },
      nats_5000_records_per_second_batch_100: streamTargetOf(
        result.nats_jetstream.throughput_batch_100_default_window,
      ),
      redis_5000_records_per_second_batch_100: streamTargetOf(
        result.redis_streams.throughput_batch_100_default_window,
      ),
    };
    const tail = server.logTail(4000).trim();
    progress(`lamina server output (last lines):\n${tail}`);
    return result;
  } catch (error) {
    progress(`lamina server output (last lines):\n${server.logTail()}`);
    throw error;
  }
}

async function main() {
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--quick');
  if (unknown.length > 0) throw new Error('usage: node bench/event-sources.mjs [--quick]');
  const mode = process.argv.includes('--quick') ? 'quick' : 'full';
  const plan = PLANS[mode];
  const result = { benchmark: 'lamina-event-sources', mode, machine: machineInfo(REPO_ROOT) };
  result.settings = {
    ...plan,
    function_runtime: 'nodejs20.x',
    function_memory_mb: MEMORY_SIZE,
    throughput_function: NOOP_SOURCE.trim(),
    record_body_bytes: body({ i: 12345, round: 1, t: Date.now() }).length,
    rabbitmq: {
      queue: 'classic, durable; messages persistent (deliveryMode 2), published with confirms',
      batch_size: QUEUE_BATCH,
      throughput_clock:
        'UpdateEventSourceMapping Enabled true → end of the last invocation (REPORT line); ' +
        'rabbitmqctl then confirms 0 ready and 0 unacknowledged',
    },
    streams: {
      batch_size: STREAM_BATCH,
      nats: 'one subject (one partition), durable consumer lamina-<UUID> made by Lamina',
      redis: 'entries with a value field, no key (one partition), group lamina-<UUID>',
      throughput_clock:
        'CreateEventSourceMapping (TRIM_HORIZON, stream pre-loaded) → broker shows every record ' +
        'acknowledged (polled every 10 ms); seconds/records_per_second use the last REPORT line',
      parallelization_factor: 1,
    },
    latency:
      'one record at a time (the next after the previous was reported); publish_to_handler = ' +
      "Date.now() at the handler's start − Date.now() before publishing (same host clock, 1 ms " +
      'resolution); publish_to_report_received = performance.now() in the benchmark, from ' +
      "before publishing to the function's report arriving (includes the report's HTTP POST)",
    spaced_latency_ms_between_records: SPACING_MS,
  };
  const cleanups = [];
  const cleanUp = async () => {
    while (cleanups.length > 0)
      await Promise.resolve()
        .then(cleanups.pop())
        .catch((error) => progress(`cleanup failed: ${error?.message ?? error}`));
  };
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => {
      progress(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  const started = performance.now();
  try {
    Object.assign(result, await benchmark(mode, cleanups));
  } finally {
    await cleanUp();
  }
  result.run_seconds = round((performance.now() - started) / 1000);
  result.machine.load_average_1m_at_end = loadAverage();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench] FAILED: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
