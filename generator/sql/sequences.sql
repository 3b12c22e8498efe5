-- Sequences of the covered schemas, except those an identity column owns (the column is the spec's object) or an
-- extension owns, with their parameters, comment, privileges (the owner's own left out), owner and the column
-- owning them (OWNED BY: a serial column's sequence, or any other; PostgreSQL keeps the table in their schema).
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
       s.seqcache, s.seqcycle,
       obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(c.relacl, acldefault('s', c.relowner))) a
             WHERE a.grantee <> c.relowner),
       pg_get_userbyid(c.relowner),
       (SELECT ARRAY[tn.nspname, t.relname, a.attname]
        FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
          AND d.deptype = 'a' AND d.refobjsubid > 0 AND t.relkind IN ('r', 'p') AND NOT t.relispartition)
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
ORDER BY n.nspname, c.relname
