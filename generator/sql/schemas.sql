-- The schemas the spec covers that exist, with comment, privileges and owner. A NULL ACL means the defaults
-- (acldefault); the owner's own privileges are left out because the spec never lists them.
SELECT n.nspname,
       obj_description(n.oid, 'pg_namespace'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
             WHERE a.grantee <> n.nspowner),
       pg_get_userbyid(n.nspowner)
FROM pg_namespace n
WHERE n.nspname = ANY (%(schemas)s::text[])
ORDER BY n.nspname
