-- How many rows each table of the covered schemas has, as the catalog knows without scanning: the planner's
-- estimate (reltuples, -1 before the first ANALYZE) and whether the table has any data at all (its size).
SELECT n.nspname, c.relname, c.reltuples::bigint, pg_relation_size(c.oid) > 0
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (%(schemas)s::text[])
ORDER BY n.nspname, c.relname
