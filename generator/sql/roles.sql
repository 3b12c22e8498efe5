-- The roles the spec declares that exist (roles are cluster-wide: the others are none of the spec's business).
SELECT r.rolname, r.rolcanlogin, r.rolbypassrls
FROM pg_roles r
WHERE r.rolname = ANY (%(roles)s::text[])
ORDER BY r.rolname
