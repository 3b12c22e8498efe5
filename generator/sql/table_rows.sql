-- How many rows each table of the covered schemas has, as the catalog knows without scanning: the planner's
-- estimate (reltuples, -1 before the first ANALYZE) and whether the table has any data at all (its size).
-- A partitioned table holds no rows itself: its partitions' are counted.
SELECT n.nspname, c.relname,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t
                  JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)
            ELSE c.reltuples END::bigint,
       CASE WHEN c.relkind = 'p'
            THEN EXISTS (SELECT FROM pg_partition_tree(c.oid) t WHERE t.isleaf AND pg_relation_size(t.relid) > 0)
            ELSE pg_relation_size(c.oid) > 0 END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (%(schemas)s::text[])
ORDER BY n.nspname, c.relname
