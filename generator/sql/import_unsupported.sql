-- What `import` reads but the spec language cannot say, beyond unmodelled.sql's whole objects: properties of
-- objects it does model, and database-wide settings of the covered schemas. One row per (kind, qualified name,
-- detail). When the spec language learns one of these, its branch goes and the importer's writer registry gets
-- the entry.
-- Extension members are left out (unmodelled.sql names the extension).
SELECT kind, name, detail FROM (
    -- A sequence owned by a column of what is not a table of its own (a view, a foreign table, a partition):
    -- `owned_by:` names a table's column (sequences.sql reads those), so the sequence is imported without it.
    SELECT 'sequence option' AS kind, format('%%I.%%I', sn.nspname, s.relname) AS name,
           format('OWNED BY %%I.%%I.%%I', n.nspname, c.relname, a.attname) AS detail, s.oid AS oid,
           'pg_class'::regclass AS catalog
    FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_class c ON c.oid = dep.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = dep.refobjsubid
    WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass AND dep.deptype = 'a'
      AND sn.nspname = ANY (%(schemas)s::text[]) AND (c.relkind NOT IN ('r', 'p') OR c.relispartition)
    UNION ALL
    -- An unlogged sequence (CREATE UNLOGGED SEQUENCE, or a serial column's on an UNLOGGED table, which PostgreSQL
    -- makes unlogged): imported as a sequence, which the output creates logged. An identity column's goes with
    -- its table.
    SELECT 'sequence option', format('%%I.%%I', n.nspname, c.relname), 'UNLOGGED', c.oid, 'pg_class'::regclass
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND c.relpersistence = 'u' AND n.nspname = ANY (%(schemas)s::text[])
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('i', 'e'))
    UNION ALL
    SELECT 'table inheritance', format('%%I.%%I', n.nspname, c.relname), 'INHERITS ' || i.inhparent::regclass::text,
           c.oid, 'pg_class'::regclass
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND NOT c.relispartition
    UNION ALL
    SELECT 'table option', format('%%I.%%I', n.nspname, c.relname),
           concat_ws(', ', CASE WHEN c.reloftype <> 0 THEN 'OF ' || c.reloftype::regtype::text END,
                     CASE WHEN c.relkind <> 'v' THEN array_to_string(c.reloptions, ', ') END),
           c.oid, 'pg_class'::regclass
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND c.relkind IN ('r', 'p', 'v')
      AND (c.reloftype <> 0 OR (c.relkind <> 'v' AND c.reloptions IS NOT NULL)
           OR (c.relkind = 'v' AND EXISTS (SELECT FROM unnest(c.reloptions) o
                                           WHERE o NOT LIKE 'security_invoker=%%' AND o NOT LIKE 'security_barrier=%%'
                                             AND o NOT LIKE 'check_option=%%')))
    UNION ALL
    -- Storage parameters of an index (WITH (fillfactor = 70)) and parameters of its operator classes
    -- (gist_trgm_ops(siglen = 32), kept in the index's pg_attribute.attoptions): the index is imported without them.
    SELECT 'index option', format('%%I.%%I', n.nspname, ic.relname),
           concat_ws(', ', 'WITH (' || array_to_string(ic.reloptions, ', ') || ')',
                     CASE WHEN EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = ic.oid AND a.attoptions IS NOT NULL)
                          THEN 'operator class parameters' END),
           ic.oid, 'pg_class'::regclass
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[])
      AND (ic.reloptions IS NOT NULL
           OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = ic.oid AND a.attoptions IS NOT NULL))
    UNION ALL
    SELECT 'row-level security', format('%%I.%%I', n.nspname, c.relname), 'FORCE without ENABLE', c.oid,
           'pg_class'::regclass
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND c.relforcerowsecurity AND NOT c.relrowsecurity
    UNION ALL
    SELECT 'constraint option', format('%%I.%%I.%%I', n.nspname, c.relname, k.conname),
           concat_ws(', ', CASE WHEN k.contype = 'f' AND k.confmatchtype = 'f' THEN 'MATCH FULL' END,
                     CASE WHEN k.contype = 'c' AND k.connoinherit THEN 'NO INHERIT' END,
                     CASE WHEN k.confdelsetcols IS NOT NULL THEN 'ON DELETE SET NULL/DEFAULT of some columns' END),
           k.oid, 'pg_constraint'::regclass
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND k.contype IN ('p', 'u', 'f', 'c')
      -- DEFERRABLE of a key and NOT VALID are the spec's (`deferrable:`, `not_valid:`)
      AND ((k.contype = 'f' AND k.confmatchtype = 'f')
           OR (k.contype = 'c' AND k.connoinherit) OR k.confdelsetcols IS NOT NULL)

    UNION ALL
    SELECT 'constraint comment', format('%%I.%%I.%%I', n.nspname, c.relname, k.conname),
           obj_description(k.oid, 'pg_constraint'), k.oid, 'pg_constraint'::regclass
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND obj_description(k.oid, 'pg_constraint') IS NOT NULL
    UNION ALL
    -- A constraint trigger's FROM table (the table a foreign key's internal triggers name).
    SELECT 'trigger option', format('%%I on %%I.%%I', t.tgname, n.nspname, c.relname),
           'FROM ' || t.tgconstrrelid::regclass::text, t.oid, 'pg_trigger'::regclass
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND NOT t.tgisinternal AND t.tgconstrrelid <> 0
    UNION ALL
    -- Functions and procedures the spec cannot declare: unnamed arguments, other languages, event trigger
    -- functions. The importer leaves each of them out.
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
           format('%%I.%%I(%%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)),
           concat_ws(', ',
               CASE WHEN l.lanname NOT IN ('sql', 'plpgsql') THEN 'LANGUAGE ' || l.lanname END,
               CASE WHEN p.prorettype = 'event_trigger'::regtype THEN 'RETURNS event_trigger' END,
               CASE WHEN p.pronargs > 0 AND (p.proargnames IS NULL
                         OR '' = ANY (p.proargnames[1:coalesce(array_length(p.proallargtypes, 1), p.pronargs)]))
                    THEN 'unnamed arguments' END),
           p.oid, 'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE n.nspname = ANY (%(schemas)s::text[]) AND p.prokind IN ('f', 'p')
    UNION ALL
    -- The public schema exists in every database and cannot be declared: privileges or a comment beyond
    -- PostgreSQL's defaults on it cannot be written down.
    SELECT 'schema privilege', 'public', array_to_string(n.nspacl, ', '), n.oid, 'pg_namespace'::regclass
    FROM pg_namespace n
    WHERE n.nspname = 'public' AND 'public' = ANY (%(schemas)s::text[])
      AND n.nspacl IS DISTINCT FROM acldefault('n', n.nspowner)
      -- the defaults of PostgreSQL 15+ and of older majors, compared as sets of (grantee, privilege, grantable):
      -- makeaclitem() takes one privilege per call before PostgreSQL 16
      AND ARRAY(SELECT format('%%s %%s %%s', e.grantee, e.privilege_type, e.is_grantable)
                FROM aclexplode(n.nspacl) e ORDER BY 1)
          NOT IN (ARRAY(SELECT x FROM unnest(ARRAY[format('%%s USAGE f', n.nspowner),
                                                   format('%%s CREATE f', n.nspowner),
                                                   '0 USAGE f']) x ORDER BY 1),
                  ARRAY(SELECT x FROM unnest(ARRAY[format('%%s USAGE f', n.nspowner),
                                                   format('%%s CREATE f', n.nspowner),
                                                   '0 USAGE f', '0 CREATE f']) x ORDER BY 1))
    UNION ALL
    SELECT 'schema comment', 'public', obj_description(n.oid, 'pg_namespace'), n.oid, 'pg_namespace'::regclass
    FROM pg_namespace n
    WHERE n.nspname = 'public' AND 'public' = ANY (%(schemas)s::text[])
      AND obj_description(n.oid, 'pg_namespace') IS DISTINCT FROM 'standard public schema'
) objects
WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = objects.catalog AND d.objid = objects.oid
                  AND d.deptype = 'e')
UNION ALL
-- Default privileges on schemas and large objects (those on tables, sequences, functions and types are modelled).
SELECT 'default privileges',
       format('for role %%s on %%s', pg_get_userbyid(d.defaclrole),
              CASE d.defaclobjtype WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END),
       array_to_string(d.defaclacl, ', ')
FROM pg_default_acl d
WHERE d.defaclobjtype NOT IN ('r', 'S', 'f', 'T') AND d.defaclnamespace = 0
UNION ALL
SELECT 'event trigger', quote_ident(e.evtname), e.evtevent || ' -> ' || e.evtfoid::regproc::text
FROM pg_event_trigger e
WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
                  AND d.deptype = 'e')
ORDER BY 1, 2
