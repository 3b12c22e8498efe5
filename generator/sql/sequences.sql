-- Sequences of the covered schemas, except those a column owns and takes its default from (serial, identity: the
-- column is the spec's object) or an extension owns, with their parameters, comment, privileges (the owner's own
-- left out) and owner. A sequence merely OWNED BY a column (not its default) is a sequence of its own here.
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
       s.seqcache, s.seqcycle,
       obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(c.relacl, acldefault('s', c.relowner))) a
             WHERE a.grantee <> c.relowner),
       pg_get_userbyid(c.relowner)
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND (d.deptype IN ('i', 'e')
                         OR (d.deptype = 'a' AND EXISTS (
                             SELECT FROM pg_attrdef ad JOIN pg_depend dd ON dd.classid = 'pg_attrdef'::regclass
                               AND dd.objid = ad.oid AND dd.refclassid = 'pg_class'::regclass AND dd.refobjid = c.oid
                             WHERE ad.adrelid = d.refobjid AND ad.adnum = d.refobjsubid))))
ORDER BY n.nspname, c.relname
