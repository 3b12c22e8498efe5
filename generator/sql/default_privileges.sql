-- Default privileges (pg_default_acl) of the covered schemas and the global ones (no schema), on tables,
-- sequences, functions and types: one row per role, schema and kind, with the privileges granted to others than
-- the role itself (its own are PostgreSQL's and never listed by the spec). The role is NULL when it is the reading
-- session's user, which is how a spec without `for_role:` names it.
SELECT NULLIF(pg_get_userbyid(d.defaclrole), current_user),
       n.nspname,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                            ELSE 'types' END,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(d.defaclacl) a
             WHERE a.grantee <> d.defaclrole)
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE d.defaclobjtype IN ('r', 'S', 'f', 'T')
  AND (d.defaclnamespace = 0 OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3
