// Hive Gateway's configuration for the federated gateway: the supergraph file comes from
// GATEWAY_SUPERGRAPH (one per role, written by `gateway schema supergraph`); the caller's
// Authorization header goes to every subgraph, which authenticates it and applies its own policy.
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { defineConfig } from "@graphql-hive/gateway";

// A refusal carries the gateway's code, as the single endpoint's does.
const tooComplex = (limit) => (_context, error) => Object.assign(error.extensions, { code: "QUERY_TOO_COMPLEX", limit });
const depth = Number(process.env.GATEWAY_MAX_QUERY_DEPTH || 12);
const tokens = Number(process.env.GATEWAY_MAX_TOKENS || 1000);

export const gatewayConfig = defineConfig({
  supergraph: process.env.GATEWAY_SUPERGRAPH,
  propagateHeaders: {
    // Over HTTP the header; over a WebSocket the token the client sent in connection_init.
    fromClientToSubgraphs({ request, context }) {
      const params = context?.connectionParams ?? {};
      const authorization = request?.headers?.get("authorization") ?? params.Authorization ?? params.authorization;
      return authorization ? { authorization } : {};
    },
  },
  // Subscriptions go to the subgraph that owns the root field over graphql-transport-ws, with the
  // caller's token in connection_init as the gateway's WebSocket expects it.
  transportEntries: {
    "*.http": {
      options: {
        // Identical queries in flight with the same token would otherwise reach a subgraph as one
        // request: one audit record for several reads. Every caller's request goes on, and is audited.
        deduplicateInflightRequests: false,
        subscriptions: {
          kind: "ws",
          location: "/graphql",
          options: {
            connectionParams: {
              Authorization: "{context.connectionParams.Authorization}",
            },
          },
        },
      },
    },
  },
  // The subgraphs' own errors (with extensions.code) reach the caller as they are.
  maskedErrors: false,
  // Document limits hold for the whole operation here, as the single endpoint's do (the subgraphs see
  // only their parts of it); no "Did you mean" that could name a field.
  plugins: () => [
    maxDepthPlugin({ n: depth, exposeLimits: true, onReject: [tooComplex(depth)] }),
    maxTokensPlugin({ n: tokens, exposeLimits: true, onReject: [tooComplex(tokens)] }),
  ],
  blockFieldSuggestions: true,
  // Off for a partner's router (the gateway shows partner tokens no schema) and in production.
  disableIntrospection: { disableIf: () => process.env.GATEWAY_ROUTER_INTROSPECTION === "off" },
});
