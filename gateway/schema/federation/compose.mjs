// Composes Federation v2 subgraphs into supergraphs with @theguild/federation-composition.
// stdin: JSON {"compositions": {"<name>": [{"name", "url", "sdl"}, ...]}} (several at once: one node start);
// stdout: JSON {"<name>": {"supergraph", "public"}}; on errors, exit 1 with "<name>: <message>" lines on stderr.
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { compositions } = JSON.parse(input);
const out = {};
let failed = false;
for (const [name, subgraphs] of Object.entries(compositions)) {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors && result.errors.length) {
    failed = true;
    for (const error of result.errors) console.error(`${name}: ${error.message}`);
  } else {
    out[name] = { supergraph: result.supergraphSdl, public: result.publicSdl };
  }
}
if (failed) process.exit(1);
process.stdout.write(JSON.stringify(out));
