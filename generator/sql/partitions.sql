-- Partitions and partitioned tables of the covered schemas (pg_inherits of a relation with relispartition; the
-- partition key of pg_partitioned_table): for each, its parent, its bounds as pg_get_expr prints relpartbound
-- (`FOR VALUES ...`, `DEFAULT`), its own partition key (pg_get_partkeydef) and the types of the key's values (a
-- column's type; for an expression, the input type of its operator class), comment, privileges (the owner's own
-- left out), owner, and what it holds of its own rather than from its parent (an index, constraint, trigger,
-- policy or row-level security it was given alone, which the spec cannot declare on a partition), and per key
-- what pg_get_partkeydef leaves unsaid (parts/key_unsaid.sql; an expression's type stands in as its operator
-- class's input type). A top-level partitioned table has a NULL parent. Extension members are left out.
SELECT c.oid, n.nspname, c.relname, p.oid, pn.nspname, p.relname,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       ARRAY(SELECT CASE WHEN k.attnum <> 0 THEN format_type(a.atttypid, NULL) ELSE format_type(o.opcintype, NULL) END
             FROM pg_partitioned_table pt
             CROSS JOIN LATERAL unnest(pt.partattrs::int2[], pt.partclass::oid[]) WITH ORDINALITY k(attnum, opc, ord)
             JOIN pg_opclass o ON o.oid = k.opc
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE pt.partrelid = c.oid ORDER BY k.ord),
       obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                          lower(a.privilege_type)]
             FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE a.grantee <> c.relowner),
       pg_get_userbyid(c.relowner),
       ARRAY(SELECT 'index ' || quote_ident(ic.relname)
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE c.relispartition AND i.indrelid = c.oid
               AND NOT EXISTS (SELECT FROM pg_inherits ii WHERE ii.inhrelid = i.indexrelid)
             UNION ALL
             SELECT 'constraint ' || quote_ident(k.conname) FROM pg_constraint k
             WHERE c.relispartition AND k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c', 'x')
               AND k.conislocal AND k.conparentid = 0
             UNION ALL
             SELECT 'trigger ' || quote_ident(t.tgname) FROM pg_trigger t
             WHERE c.relispartition AND t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgparentid = 0
             UNION ALL
             SELECT 'policy ' || quote_ident(pol.polname) FROM pg_policy pol
             WHERE c.relispartition AND pol.polrelid = c.oid
             UNION ALL
             SELECT 'row-level security' WHERE c.relispartition AND (c.relrowsecurity OR c.relforcerowsecurity)
             ORDER BY 1),
       ARRAY(SELECT
             -- include: key_unsaid
             FROM pg_partitioned_table pt
             CROSS JOIN LATERAL unnest(pt.partattrs::int2[], pt.partclass::oid[], pt.partcollation::oid[])
                  WITH ORDINALITY k(attnum, opclass, coll, ord)
             JOIN pg_opclass opc ON opc.oid = k.opclass
             LEFT JOIN pg_attribute ta ON ta.attrelid = c.oid AND ta.attnum = k.attnum AND k.attnum <> 0
             -- the key's type: the column's; an expression's stands in as its class's input type
             CROSS JOIN LATERAL (SELECT coalesce(ta.atttypid, opc.opcintype) AS oid) kt
             JOIN pg_type t ON t.oid = kt.oid
             LEFT JOIN pg_collation co ON co.oid = k.coll
             WHERE pt.partrelid = c.oid ORDER BY k.ord)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_class p ON p.oid = i.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE (c.relkind = 'p' OR c.relispartition) AND c.relkind IN ('r', 'p')
  AND n.nspname = ANY (%(schemas)s::text[])
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
