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

-- community police officer (policies/roles/community_police.yaml): every record of the grids
-- bound to the officer's police grid; committee staff (committee_staff.yaml): their community's
-- residents, their street's disputes, the city's grids. The harness resolves each one's grids as
-- the gateway does and signs them into the JWT (claims grids, street_grids, staff_id).
CREATE ROLE {prefix}_officer NOLOGIN;
CREATE ROLE {prefix}_committee NOLOGIN;
GRANT {prefix}_officer, {prefix}_committee TO CURRENT_USER;
-- A category's name in both languages (filled by the harness from the gateway's enums), for titles.
CREATE TABLE category_label (category text, value text, zh text NOT NULL, en text NOT NULL,
                             PRIMARY KEY (category, value));

CREATE FUNCTION bench_grids() RETURNS integer[] LANGUAGE sql STABLE AS
$$ SELECT string_to_array(nullif(current_setting('jwt.claims.grids', true), ''), ',')::integer[] $$;
CREATE FUNCTION bench_street_grids() RETURNS integer[] LANGUAGE sql STABLE AS
$$ SELECT string_to_array(nullif(current_setting('jwt.claims.street_grids', true), ''), ',')::integer[] $$;
CREATE FUNCTION bench_staff() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('jwt.claims.staff_id', true), '')::integer $$;

ALTER TABLE plate_alert ENABLE ROW LEVEL SECURITY;
ALTER TABLE guest_check_in ENABLE ROW LEVEL SECURITY;
ALTER TABLE resident_registration ENABLE ROW LEVEL SECURITY;
ALTER TABLE dog_licence ENABLE ROW LEVEL SECURITY;
CREATE POLICY officer_area ON plate_alert FOR SELECT TO {prefix}_officer USING (grid_id = ANY (bench_grids()));
CREATE POLICY officer_area ON guest_check_in FOR SELECT TO {prefix}_officer USING (grid_id = ANY (bench_grids()));
CREATE POLICY officer_area ON resident_registration FOR SELECT TO {prefix}_officer
  USING (grid_id = ANY (bench_grids()));
CREATE POLICY officer_area ON resident FOR SELECT TO {prefix}_officer USING (grid_id = ANY (bench_grids()));
CREATE POLICY officer_area ON dog_licence FOR SELECT TO {prefix}_officer USING (grid_id = ANY (bench_grids()));
CREATE POLICY officer_area ON dispute FOR SELECT TO {prefix}_officer USING (grid_id = ANY (bench_grids()));
CREATE POLICY committee_area ON resident FOR SELECT TO {prefix}_committee USING (grid_id = ANY (bench_grids()));
CREATE POLICY committee_street ON dispute FOR SELECT TO {prefix}_committee
  USING (grid_id = ANY (bench_street_grids()));
GRANT USAGE ON SCHEMA public TO {prefix}_officer, {prefix}_committee;
GRANT SELECT ON plate_alert, guest_check_in, resident_registration, resident, dog_licence, dispute, category_label
  TO {prefix}_officer;
GRANT SELECT ON resident, dispute, grid TO {prefix}_committee;

-- The officer's task list (我的待办), as resolvers/tasks/ ranks it: one branch per kind of task the
-- officer gets (the domains' contributed.py), most urgent first, then the oldest, then the lowest
-- record id; the title is the kind's label with the case number and the category's name.
-- Called with the caller's grids by officer_tasks() (PostGraphile, under RLS) and by the floor.
CREATE TYPE task_row AS (kind text, urgency integer, title text, record_type text, record_id integer,
                         since timestamptz);
CREATE FUNCTION task_list(grids integer[], staff integer) RETURNS SETOF task_row LANGUAGE sql STABLE AS $$
  SELECT t.kind, t.urgency,
         t.zh || coalesce(' ' || t.code, '') || coalesce('(' || l.zh || ')', '') || ' / '
           || t.en || coalesce(' ' || t.code, '') || coalesce(' (' || l.en || ')', ''),
         t.record_type, t.record_id, t.since
  FROM (
    SELECT 'ALERT_DISPATCHED', 100, '拦截预警车辆', 'intercept the vehicle of plate alert', NULL::text,
           'alert', kind::text, 'PlateAlert', id, raised_at
      FROM plate_alert WHERE grid_id = ANY (grids) AND status = 'dispatched' AND dispatched_to_staff_id = staff
    UNION ALL
    SELECT 'ALERT_INTERCEPTED', 95, '处理拦截车辆违法行为', 'decide the violation of intercepted plate alert', NULL,
           'alert', kind, 'PlateAlert', id, raised_at
      FROM plate_alert WHERE grid_id = ANY (grids) AND status = 'intercepted' AND dispatched_to_staff_id = staff
    UNION ALL
    SELECT 'ALERT_RAISED', 90, '指派号牌预警', 'dispatch plate alert', NULL, 'alert', kind, 'PlateAlert', id, raised_at
      FROM plate_alert WHERE grid_id = ANY (grids) AND status = 'raised'
    UNION ALL
    SELECT 'CHECK_IN_FLAGGED', 80, '核查网约房入住人员', 'verify a flagged rental guest', NULL, NULL, NULL,
           'GuestCheckIn', id, checked_in_at
      FROM guest_check_in WHERE grid_id = ANY (grids) AND flag_status = 'flagged'
    UNION ALL
    SELECT 'DISPUTE_REPORTED', 70, '纠纷待受理', 'dispute awaiting acceptance', code, 'dispute', category, 'Dispute',
           id, reported_at
      FROM dispute WHERE grid_id = ANY (grids) AND status = 'reported'
    UNION ALL
    SELECT 'REGISTRATION_TO_REVIEW', 61, '审核人口登记', 'review a registration', NULL, 'registration',
           registration_kind, 'ResidentRegistration', id, submitted_at
      FROM resident_registration WHERE grid_id = ANY (grids) AND status = 'pending_review'
    UNION ALL
    SELECT 'REGISTRATION_PENDING', 60, '审核人口登记', 'review a registration', NULL, 'registration',
           registration_kind, 'Resident', id, registered_at
      FROM resident WHERE grid_id = ANY (grids) AND status = 'pending_review'
    UNION ALL
    SELECT 'REGISTRATION_TO_CORRECT', 51, '补正退回的登记', 'correct a returned registration', NULL, 'registration',
           registration_kind, 'ResidentRegistration', id, reviewed_at
      FROM resident_registration
      WHERE grid_id = ANY (grids) AND status = 'returned' AND collector_staff_id = staff
    UNION ALL
    SELECT 'DISPUTE_TO_MEDIATE', 45, '调解纠纷', 'mediate dispute', code, 'dispute', category, 'Dispute', id,
           reported_at
      FROM dispute WHERE grid_id = ANY (grids) AND status IN ('accepted', 'mediating')
    UNION ALL
    SELECT 'DISPUTE_FOLLOW_UP', 40, '回访纠纷', 'follow up dispute', code, 'dispute', category, 'Dispute', id,
           reported_at
      FROM dispute WHERE grid_id = ANY (grids) AND status IN ('agreed', 'escalated')
    UNION ALL
    SELECT 'DOG_LICENCE_DECISION', 30, '审批犬证', 'decide a dog licence', NULL, NULL, NULL, 'DogLicence', id,
           applied_at
      FROM dog_licence WHERE grid_id = ANY (grids) AND status = 'pre_reviewed'
    UNION ALL
    SELECT 'DOG_LICENCE_PRE_REVIEW', 20, '初审犬证', 'pre-review a dog licence', NULL, NULL, NULL, 'DogLicence', id,
           applied_at
      FROM dog_licence WHERE grid_id = ANY (grids) AND status = 'applied'
  ) AS t (kind, urgency, zh, en, code, category, value, record_type, record_id, since)
  LEFT JOIN category_label l ON l.category = t.category AND l.value = t.value
  ORDER BY t.urgency DESC, t.since, t.record_id
$$;
CREATE FUNCTION officer_tasks() RETURNS SETOF task_row LANGUAGE sql STABLE AS
$$ SELECT * FROM task_list(bench_grids(), bench_staff()) $$;
GRANT EXECUTE ON FUNCTION officer_tasks() TO {prefix}_officer;

-- Statistics (居民统计 / 纠纷统计 / 网格统计): counts per dimension and key, the total as the
-- dimension 'total'. Ages fold into bands by birth year, as resolvers/population/stats.py does.
CREATE TYPE stat_count AS (dimension text, key text, count bigint);
CREATE FUNCTION age_band_of(years integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN years < 18 THEN '0-17' WHEN years >= 80 THEN '80+'
              ELSE greatest(years / 10 * 10, 18)::text || '-' || (years / 10 * 10 + 9)::text END
$$;
CREATE FUNCTION resident_counts(grids integer[]) RETURNS SETOF stat_count LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN grouping(band) = 0 THEN 'ageBand' WHEN grouping(registration_kind) = 0 THEN 'registrationKind'
              WHEN grouping(gender) = 0 THEN 'gender' ELSE 'total' END,
         coalesce(band, registration_kind, gender, ''), count(*)
  FROM (SELECT age_band_of(extract(year FROM current_date)::integer - extract(year FROM birth_date)::integer) AS band,
               registration_kind, gender FROM resident WHERE grid_id = ANY (grids)) AS r
  GROUP BY GROUPING SETS ((band), (registration_kind), (gender), ())
$$;
CREATE FUNCTION dispute_counts(grids integer[]) RETURNS SETOF stat_count LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN grouping(category) = 0 THEN 'category' WHEN grouping(status) = 0 THEN 'status' ELSE 'total' END,
         coalesce(category, status, ''), count(*)
  FROM dispute WHERE grid_id = ANY (grids) GROUP BY GROUPING SETS ((category), (status), ())
$$;
CREATE FUNCTION grid_counts() RETURNS SETOF stat_count LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN grouping(risk_colour) = 0 THEN 'riskColour' ELSE 'total' END, coalesce(risk_colour, ''), count(*)
  FROM grid GROUP BY GROUPING SETS ((risk_colour), ())
$$;
CREATE FUNCTION resident_stats() RETURNS SETOF stat_count LANGUAGE sql STABLE AS
$$ SELECT * FROM resident_counts(bench_grids()) $$;
CREATE FUNCTION dispute_stats() RETURNS SETOF stat_count LANGUAGE sql STABLE AS
$$ SELECT * FROM dispute_counts(bench_street_grids()) $$;
CREATE FUNCTION grid_stats() RETURNS SETOF stat_count LANGUAGE sql STABLE AS $$ SELECT * FROM grid_counts() $$;
GRANT EXECUTE ON FUNCTION resident_stats(), dispute_stats(), grid_stats() TO {prefix}_committee;
-- The floor's building blocks, not API.
COMMENT ON FUNCTION task_list(integer[], integer) IS E'@behavior -*';
COMMENT ON FUNCTION resident_counts(integer[]) IS E'@behavior -*';
COMMENT ON FUNCTION dispute_counts(integer[]) IS E'@behavior -*';
COMMENT ON FUNCTION grid_counts() IS E'@behavior -*';
COMMENT ON TABLE category_label IS E'@behavior -*';
