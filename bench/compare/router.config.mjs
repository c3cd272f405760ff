// The router of bench-compare: the shipped configuration (gateway/schema/federation/gateway.config.mjs)
// with one change. Hive Gateway merges identical queries in flight to a subgraph (same body, same
// token) into one request; wrk sends one request over and over, so the merge would spare the
// subgraphs most of the work and the router would look faster than the gateway it fronts.
// Callers who each send their own request are what the run should measure: every request goes on.
import { gatewayConfig as shipped } from "../../gateway/schema/federation/gateway.config.mjs";

const http = shipped.transportEntries["*.http"];

export const gatewayConfig = {
  ...shipped,
  transportEntries: {
    ...shipped.transportEntries,
    "*.http": { ...http, options: { ...http.options, deduplicateInflightRequests: false } },
  },
};
