-- Tables, views and materialized views of the covered schemas, except partitions and what an extension owns:
-- row-level security flags, options (security_invoker, security_barrier, check_option), the (materialized) view's
-- query, comment and privileges (the owner's own left out; a NULL ACL means the defaults), UNLOGGED, owner, and
-- whether a materialized view holds its rows (WITH DATA, or refreshed since).
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
       coalesce(c.reloptions, '{}'),
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
       obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE a.grantee <> c.relowner),
       c.relpersistence = 'u', pg_get_userbyid(c.relowner), c.relispopulated
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition AND n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
