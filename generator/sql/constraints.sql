-- Table constraints as PostgreSQL spells them (parsed with pglast by the reader), with the flags read from the
-- catalog: DEFERRABLE, INITIALLY DEFERRED and validated, and an exclusion constraint's predicate as PostgreSQL
-- prints it (its index's). NOT NULL constraints (PostgreSQL 18 stores them here too) are read from the columns.
-- Constraints PostgreSQL derives from another (conparentid: the one per partition of a foreign key's referenced
-- partitioned table) are that constraint's.
SELECT con.conrelid, con.conname, con.contype::text, pg_get_constraintdef(con.oid), con.condeferrable,
       con.condeferred, con.convalidated,
       CASE WHEN con.contype = 'x' THEN pg_get_expr(i.indpred, i.indrelid) END
FROM pg_constraint con LEFT JOIN pg_index i ON i.indexrelid = con.conindid
WHERE con.conrelid = ANY (%(oids)s::oid[]) AND con.contype IN ('p', 'u', 'f', 'c', 'x') AND con.conparentid = 0
ORDER BY con.conrelid, con.conname
