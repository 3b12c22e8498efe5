-- Columns of the relations read, in table order: type as format_type spells it, NOT NULL, default expression
-- (a generated column's expression is its pg_attrdef entry too; attgenerated tells them apart), comment,
-- column-level privileges (which the spec never grants), identity kind ('a' always, 'd' by default) with the
-- options of its sequence, and the collation when it is not the type's own.
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       col_description(a.attrelid, a.attnum),
       ARRAY(SELECT ARRAY[CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END,
                          lower(x.privilege_type)]
             FROM aclexplode(a.attacl) x),
       a.attgenerated, a.attidentity,
       ARRAY[s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache],
       s.seqcycle,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN LATERAL (SELECT q.* FROM pg_depend dep JOIN pg_sequence q ON q.seqrelid = dep.objid
                   WHERE a.attidentity <> '' AND dep.classid = 'pg_class'::regclass
                     AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
                     AND dep.refobjsubid = a.attnum AND dep.deptype = 'i') s ON true
WHERE a.attrelid = ANY (%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
