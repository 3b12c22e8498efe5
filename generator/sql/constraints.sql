-- Table constraints as PostgreSQL spells them (parsed with pglast by the reader). NOT NULL constraints
-- (PostgreSQL 18 stores them here too) are read from the columns instead.
SELECT con.conrelid, con.conname, con.contype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
WHERE con.conrelid = ANY (%(oids)s::oid[]) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY con.conrelid, con.conname
