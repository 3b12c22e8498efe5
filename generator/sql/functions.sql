-- Functions and procedures (prokind 'p') of the covered schemas (aggregates are read by unmodelled.sql), except what an extension owns: arguments but a TABLE
-- result's columns (name, type, default, mode), result, language, volatility, security, strictness, leakproofness, parallel safety, cost, rows,
-- settings (search_path), body, comment and EXECUTE privileges (a NULL ACL means the defaults, which include EXECUTE for PUBLIC; the owner's own are left out), owner.
SELECT n.nspname, p.proname,
       ARRAY(SELECT ARRAY[coalesce(p.proargnames[u.i], ''), format_type(u.t, NULL),
                          pg_get_function_arg_default(p.oid, u.i::integer), coalesce(p.proargmodes[u.i], 'i')::text]
             FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(t, i)
             WHERE coalesce(p.proargmodes[u.i], 'i') IN ('i', 'o', 'b', 'v')
             ORDER BY u.i),
       pg_get_function_result(p.oid), l.lanname, p.provolatile::text, p.prosecdef, p.proisstrict,
       p.proleakproof, p.proparallel::text, p.procost::integer, p.prorows::integer,
       coalesce(p.proconfig, '{}'), coalesce(p.prosrc, ''),
       obj_description(p.oid, 'pg_proc'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE a.grantee <> p.proowner),
       pg_get_userbyid(p.proowner), p.prokind::text
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p') AND n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY n.nspname, p.proname, p.oid
