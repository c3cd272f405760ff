// PostGraphile 5 for make bench-compare: the Amber preset over the bench database, one
// process, no GraphiQL, no explain. A request's bearer token (HS256, signed by the harness)
// names the PostgreSQL role and the caller's area; pgSettings hand both to the database, where
// row-level security does the scoping.
//
//   node server.mjs   (env: DATABASE_URL, JWT_SECRET, PORT)
import "./polyfill.mjs";

import { createServer } from "node:http";

import jwt from "jsonwebtoken";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const { DATABASE_URL, JWT_SECRET, PORT } = process.env;
if (!DATABASE_URL || !JWT_SECRET || !PORT) {
  console.error("server.mjs needs DATABASE_URL, JWT_SECRET and PORT");
  process.exit(2);
}

function claimsOf(request) {
  const header = request?.headers?.authorization ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  // Throws on a missing, forged or expired token: the request fails, nothing runs.
  return jwt.verify(token, JWT_SECRET, { algorithms: ["HS256"] });
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: DATABASE_URL, schemas: ["public"], poolConfig: { max: 10 } })],
  grafserv: { port: Number(PORT), host: "127.0.0.1", graphiql: false, watch: false, explain: false },
  grafast: {
    explain: false,
    context(requestContext) {
      const claims = claimsOf(requestContext.node?.req);
      // Every other claim (grid_id, grids, street_grids, staff_id) as jwt.claims.<name>; a list as
      // "1,2,3", which the database's bench_grids() turns back into an array.
      const pgSettings = { role: String(claims.role) };
      for (const [name, value] of Object.entries(claims)) {
        if (name === "role" || name === "exp" || name === "iat") continue;
        pgSettings[`jwt.claims.${name}`] = value == null ? "" : Array.isArray(value) ? value.join(",") : String(value);
      }
      return { pgSettings };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
serv.addTo(server).catch((error) => {
  console.error(error);
  process.exit(1);
});
await pgl.getSchema();
server.listen(Number(PORT), "127.0.0.1", () => console.log(`postgraphile listening on ${PORT}`));

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    Promise.resolve(pgl.release()).finally(() => process.exit(0));
  });
}
