-- Composite types of the covered schemas (CREATE TYPE ... AS (...)), except those an extension owns and the row
-- types of tables and views: their attributes in order (type as format_type spells it, the collation when it is
-- not the attribute type's own) and comment.
SELECT n.nspname, t.typname,
       ARRAY(SELECT ARRAY[a.attname::text, format_type(a.atttypid, a.atttypmod),
                          CASE WHEN a.attcollation <> at.typcollation THEN co.collname::text END]
             FROM pg_attribute a
             JOIN pg_type at ON at.oid = a.atttypid
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       obj_description(t.oid, 'pg_type')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
