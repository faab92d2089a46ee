// The project's performance targets, checked against a benchmark result.

/**
 * Warm invoke overhead p50 under 1 ms (judged on the raw HTTP client and on the SDK), cold
 * start p50 (client-observed) within 1.5× of a bare `node -e 0` start, and at least 2,000
 * asynchronous events accepted (durably) per second. The `node -e 0` figure is
 * the paired one, timed between the cold starts, so that both saw the same load on the machine.
 */
export function targets(result) {
  const rawP50 = result.warm_invoke.raw_http.p50_ms;
  const sdkP50 = result.warm_invoke.sdk.p50_ms;
  const nodeP50 = result.cold_start.paired_node_e0.p50_ms;
  const coldP50 = result.cold_start.client.p50_ms;
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    warm_overhead_p50_under_1_ms: {
      raw_http_p50_ms: rawP50,
      sdk_p50_ms: sdkP50,
      met_raw_http: rawP50 < 1,
      met_sdk: sdkP50 < 1,
    },
    cold_start_p50_within_1_5x_node_e0: {
      node_e0_paired_p50_ms: nodeP50,
      node_e0_at_start_p50_ms: result.baseline.node_e0.p50_ms,
      limit_ms: round(nodeP50 * 1.5),
      cold_client_p50_ms: coldP50,
      ratio: round(coldP50 / nodeP50),
      met: coldP50 <= nodeP50 * 1.5,
    },
    async_acceptance_2000_per_second: result.async_events.target_acceptance_2000_per_second,
  };
}
