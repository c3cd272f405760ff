-- PostGraphile's side of make bench-compare: roles, row-level security and smart tags that
-- mirror the gateway's policies for the pages measured. {prefix} is replaced by the run's own
-- name, so that roles (cluster-wide) never collide with another run's.
--
-- grid worker (policies/roles/grid_worker.yaml): its own grid's residents only; name, address,
-- age band, household; never the ID number or the birth date. Column grants cannot do this
-- alone (PostGraphile computes ageBand from the whole row, and a whole-row reference needs every
-- column), so the grid worker reads residents through a view that holds only the granted
-- columns; the view runs as {prefix}_card_owner, a non-owner role bound by the same RLS policy.

CREATE ROLE {prefix}_analyst NOLOGIN;
CREATE ROLE {prefix}_grid_worker NOLOGIN;
CREATE ROLE {prefix}_card_owner NOLOGIN;
-- PostGraphile connects as the bench's own user and switches role per request.
GRANT {prefix}_analyst, {prefix}_grid_worker TO CURRENT_USER;

CREATE FUNCTION bench_grid() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('jwt.claims.grid_id', true), '')::integer $$;

CREATE FUNCTION age_band(birth date) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN a < 18 THEN '0-17'
    WHEN a >= 80 THEN '80+'
    ELSE greatest(a / 10 * 10, 18)::text || '-' || (a / 10 * 10 + 9)::text
  END
  FROM (SELECT extract(year FROM age(current_date, birth))::integer AS a) AS x
$$;

ALTER TABLE resident ENABLE ROW LEVEL SECURITY;
ALTER TABLE household ENABLE ROW LEVEL SECURITY;
ALTER TABLE dispute ENABLE ROW LEVEL SECURITY;

CREATE POLICY analyst_all ON resident TO {prefix}_analyst USING (true);
CREATE POLICY analyst_all ON household TO {prefix}_analyst USING (true);
CREATE POLICY analyst_all ON dispute TO {prefix}_analyst USING (true);
CREATE POLICY own_grid ON resident FOR SELECT TO {prefix}_card_owner USING (grid_id = bench_grid());
CREATE POLICY own_grid ON household FOR SELECT TO {prefix}_grid_worker USING (grid_id = bench_grid());
CREATE POLICY own_grid ON dispute TO {prefix}_grid_worker
  USING (grid_id = bench_grid()) WITH CHECK (grid_id = bench_grid());

GRANT USAGE ON SCHEMA public TO {prefix}_analyst, {prefix}_grid_worker, {prefix}_card_owner;
GRANT SELECT ON grid, resident, household, dispute, dispute_party TO {prefix}_analyst;
GRANT SELECT ON resident TO {prefix}_card_owner;
GRANT SELECT ON household TO {prefix}_grid_worker;
GRANT SELECT, INSERT ON dispute TO {prefix}_grid_worker;
GRANT USAGE ON SEQUENCE dispute_id_seq TO {prefix}_grid_worker;

CREATE VIEW resident_card AS
  SELECT id, name, address, age_band(birth_date) AS age_band, household_id, grid_id FROM resident;
ALTER VIEW resident_card OWNER TO {prefix}_card_owner;
GRANT SELECT ON resident_card TO {prefix}_grid_worker;

-- The domains keep no foreign keys across domains; these tags give PostGraphile the same links.
COMMENT ON VIEW resident_card IS E'@primaryKey id\n@foreignKey (household_id) references household (id)';
COMMENT ON TABLE resident IS E'@foreignKey (grid_id) references grid (id)';
COMMENT ON TABLE dispute_party IS E'@foreignKey (resident_id) references resident (id)';
-- The outboxes (a row_id column beside id) are the gateway's internals, not API.
COMMENT ON TABLE population_outbox IS E'@behavior -*';
COMMENT ON TABLE grid_outbox IS E'@behavior -*';
COMMENT ON TABLE dispute_outbox IS E'@behavior -*';
COMMENT ON TABLE volunteer_outbox IS E'@behavior -*';
COMMENT ON TABLE traffic_outbox IS E'@behavior -*';
