/**
 * Opens the host side of each environment: `<run>/envs/<id>/` (root and the sandbox group may
 * pass through it, nobody else) with the unix sockets the platform creates and the jail's group
 * may connect to — the Runtime API, the Lamina API relay, the inbound tunnels, one relay per
 * allow-listed host service and, with a collector, the OTLP endpoint — each with its own cap on
 * connections, all charged to one server-wide ConnectionBudget.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionBudget } from '../core/connection-budget.js';
import type { EnvironmentEndpoints, EnvironmentEndpointsFactory } from '../environment/ports.js';
import { InboundTunnels } from '../runtime-api/inbound-tunnels.js';
import type { OtlpIntake } from '../runtime-api/otlp-forwarder.js';
import { OtlpReceiver } from '../runtime-api/otlp-receiver.js';
import { RelayTelemetrySender } from '../runtime-api/relay-telemetry-sender.js';
import { RuntimeApiServer } from '../runtime-api/runtime-api-server.js';
import { SocketRelay, type RelayedPorts, type RelayTarget } from './socket-relay.js';
import { sandboxPassage, sandboxSocket } from './private-folders.js';
import type { SandboxIdentity } from './sandbox-identity.js';

/** Connections one environment may hold on each socket. */
export const CONNECTIONS_PER_ENVIRONMENT = {
  /** The runtime, its extensions, and curl-style clients opening one per request. */
  runtime: 32,
  /** The AWS SDK's keep-alive pool inside a function. */
  api: 16,
  /** The jail's relay keeps one offered; the rest is slack. */
  inbound: 8,
  /** A connection pool (a database client's, say) to each allow-listed host service. */
  hostService: 16,
  /** One exporter per signal, each with a few requests under way. */
  otlp: 8,
} as const;

/** How long a relayed API connection may carry nothing before it is closed (ms). */
const API_IDLE_MS = 10 * 60 * 1000;
/** The same for a host service: database pools keep idle connections for long. */
const HOST_SERVICE_IDLE_MS = 60 * 60 * 1000;

/** A host service functions may use (`--function-allow HOST:PORT`). */
export interface HostService {
  readonly host: string;
  readonly port: number;
}

export interface EndpointOptions {
  /** The server's run folder; environments get `envs/<id>` in it. */
  readonly runDir: string;
  readonly identity: SandboxIdentity | undefined;
  readonly budget: ConnectionBudget;
  /** Where the Lamina API listens; undefined: functions get no relay. */
  readonly api: RelayTarget | undefined;
  /** Where the relays note the host-side ports of their connections. */
  readonly relayed?: RelayedPorts | undefined;
  /** Allow-listed host services (each port once). */
  readonly hostServices?: readonly HostService[] | undefined;
  /** Where functions' OTLP posts go (`--otlp-endpoint`); undefined: no OTLP endpoint. */
  readonly otlp?: OtlpIntake | undefined;
  /**
   * Told of every connection to an environment's sockets that ended, with the bytes read from it
   * (see ConnectionLimits).
   */
  readonly onConnectionEnded?: ((bytesRead: number) => void) | undefined;
}

export function environmentEndpoints(options: EndpointOptions): EnvironmentEndpointsFactory {
  const { identity, budget } = options;
  const onEnded = options.onConnectionEnded;
  return async (id) => {
    const dir = join(options.runDir, 'envs', id);
    sandboxPassage(dir, identity);
    const closers: Array<() => Promise<void>> = [];
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        for (const closeOne of closers.reverse()) await closeOne().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      })());
    try {
      const runtimeSocket = join(dir, 'runtime.sock');
      const runtime = new RuntimeApiServer({
        connections: { perSocket: CONNECTIONS_PER_ENVIRONMENT.runtime, budget, onEnded },
      });
      await runtime.listen({ path: runtimeSocket });
      closers.push(() => runtime.close());
      sandboxSocket(runtimeSocket, identity);

      const inboundSocket = join(dir, 'inbound.sock');
      const tunnels = new InboundTunnels({
        perSocket: CONNECTIONS_PER_ENVIRONMENT.inbound,
        budget,
        onEnded,
      });
      await tunnels.listen(inboundSocket);
      closers.push(() => tunnels.close());
      sandboxSocket(inboundSocket, identity);

      // A relay per TCP address functions may reach on the host, each socket the jail's group's.
      const relay = async (
        file: string,
        target: RelayTarget,
        perSocket: number,
        idleMs: number,
      ) => {
        const socket = join(dir, file);
        const opened = new SocketRelay(
          target,
          { perSocket, budget, idleMs, onEnded },
          options.relayed,
        );
        await opened.listen(socket);
        closers.push(() => opened.close());
        sandboxSocket(socket, identity);
        return socket;
      };
      const laminaApiSocket =
        options.api === undefined
          ? undefined
          : await relay('api.sock', options.api, CONNECTIONS_PER_ENVIRONMENT.api, API_IDLE_MS);
      const hostServiceSockets: Array<{ port: number; socket: string }> = [];
      for (const service of options.hostServices ?? []) {
        const socket = await relay(
          `host-${service.port}.sock`,
          () => service,
          CONNECTIONS_PER_ENVIRONMENT.hostService,
          HOST_SERVICE_IDLE_MS,
        );
        hostServiceSockets.push({ port: service.port, socket });
      }
      let otlpSocket: string | undefined;
      if (options.otlp !== undefined) {
        otlpSocket = join(dir, 'otlp.sock');
        const receiver = new OtlpReceiver({
          environmentId: id,
          intake: options.otlp,
          connections: { perSocket: CONNECTIONS_PER_ENVIRONMENT.otlp, budget, onEnded },
        });
        await receiver.listen(otlpSocket);
        closers.push(() => receiver.close());
        sandboxSocket(otlpSocket, identity);
      }
      const endpoints: EnvironmentEndpoints = {
        runtime,
        runtimeSocket,
        laminaApiSocket,
        inboundSocket,
        hostServiceSockets,
        otlpSocket,
        telemetry: new RelayTelemetrySender((port) => tunnels.open(port)),
        close,
      };
      return endpoints;
    } catch (error) {
      await close();
      throw error;
    }
  };
}
