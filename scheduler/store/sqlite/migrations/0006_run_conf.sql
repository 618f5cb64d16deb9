-- A run's conf (what `vigil dags trigger --conf` gave) and its effective
-- params (the DAG's defaults overlaid by the conf), as JSON objects; ''
-- for a run stored without them (issue 17).
ALTER TABLE runs ADD COLUMN conf TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '';
