-- Objects of the covered schemas that the spec language cannot declare yet: a plan names them and leaves them alone
-- (enum types, composite types and domains are modelled: enum_types.sql, composite_types.sql, domains.sql;
-- extensions: extensions.sql; exclusion constraints: constraints.sql; partitions: partitions.sql; procedures:
-- functions.sql). Extension members are left out (the
-- extension is modelled).
SELECT kind, name FROM (
    SELECT CASE t.typtype WHEN 'r' THEN 'range type' WHEN 'm' THEN 'multirange type' END AS kind,
           format('%%I.%%I', n.nspname, t.typname) AS name, t.oid AS oid, 'pg_type'::regclass AS catalog
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND t.typtype IN ('r', 'm')
    UNION ALL
    -- A partition is its parent's (partitions.sql), unless the parent lies outside the covered schemas.
    SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' WHEN 'r' THEN 'partition' WHEN 'p' THEN 'partition' END,
           format('%%I.%%I', n.nspname, c.relname), c.oid, 'pg_class'::regclass
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[])
      AND (c.relkind = 'f' OR (c.relkind IN ('r', 'p') AND c.relispartition
                               AND NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                                               JOIN pg_namespace pn ON pn.oid = p.relnamespace
                                               WHERE i.inhrelid = c.oid
                                                 AND pn.nspname = ANY (%(schemas)s::text[]))))
    UNION ALL
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function' END,
           format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.oid,
           'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND p.prokind IN ('a', 'w')
    UNION ALL
    SELECT 'rule', format('%%I on %%I.%%I', r.rulename, n.nspname, c.relname), r.oid, 'pg_rewrite'::regclass
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND r.rulename <> '_RETURN'
) objects
WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = objects.catalog AND d.objid = objects.oid
                  AND d.deptype = 'e')
ORDER BY 1, 2
