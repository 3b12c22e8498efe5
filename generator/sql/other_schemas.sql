-- The database's schemas that are neither the spec's nor PostgreSQL's own (nor the tool's record, pgspec): verify
-- names them as not compared, so that a table in a schema the spec forgot does not pass unseen.
SELECT n.nspname
FROM pg_namespace n
WHERE n.nspname <> ALL (%(schemas)s::text[])
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'pgspec')
ORDER BY n.nspname
