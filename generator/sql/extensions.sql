-- Every extension of the database but plpgsql (which every database has): extensions are database-wide, so all are
-- read; drift reports an undeclared one only when its objects are in a schema the spec covers.
SELECT e.extname, n.nspname, e.extversion
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname
