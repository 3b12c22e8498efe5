-- Privileges and owners of the enum types, composite types and domains of the covered schemas. A NULL ACL means the defaults
-- (acldefault: USAGE for PUBLIC); the owner's own privileges are left out because the spec never lists them.
SELECT n.nspname, t.typname,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
             WHERE a.grantee <> t.typowner),
       pg_get_userbyid(t.typowner)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'c', 'd') AND n.nspname = ANY (%(schemas)s::text[])
ORDER BY n.nspname, t.typname
