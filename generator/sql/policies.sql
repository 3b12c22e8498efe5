-- Row-level security policies: command, permissive or restrictive, roles (0 is PUBLIC), USING and WITH CHECK
-- as PostgreSQL prints them, and the comment.
SELECT p.polrelid, p.polname, p.polcmd::text, p.polpermissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
       obj_description(p.oid, 'pg_policy')
FROM pg_policy p
WHERE p.polrelid = ANY (%(oids)s::oid[])
ORDER BY p.polrelid, p.polname
