-- Indexes of the tables read, as CREATE INDEX statements (parsed with pglast by the reader), with the predicate
-- of a partial index as PostgreSQL prints it and the comment. An index that a PRIMARY KEY, UNIQUE or EXCLUDE
-- constraint owns is that constraint's business, not an index of its own.
SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid),
       obj_description(i.indexrelid, 'pg_class')
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY (%(oids)s::oid[])
  AND NOT EXISTS (SELECT FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
