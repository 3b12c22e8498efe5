-- Domains of the covered schemas (CREATE DOMAIN), except those an extension owns: base type as format_type spells
-- it, the collation when it is not the base type's own, NOT NULL, default expression, CHECK constraints by name
-- (their expressions over VALUE) and comment.
SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod),
       CASE WHEN t.typcollation <> bt.typcollation THEN co.collname END,
       t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
       ARRAY(SELECT ARRAY[con.conname::text, pg_get_expr(con.conbin, 0)]
             FROM pg_constraint con
             WHERE con.contypid = t.oid AND con.contype = 'c'
             ORDER BY con.conname),
       obj_description(t.oid, 'pg_type')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation
WHERE t.typtype = 'd' AND n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
