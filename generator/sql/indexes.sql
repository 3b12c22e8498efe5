-- Indexes of the tables read, as CREATE INDEX statements (parsed with pglast by the reader), with the predicate
-- of a partial index as PostgreSQL prints it and the comment. An index that a PRIMARY KEY, UNIQUE or EXCLUDE
-- constraint owns is that constraint's business, not an index of its own. Per key, what pg_get_indexdef leaves
-- unsaid: the operator class when it is the default for the key's type (as ruleutils.c decides it: the type's
-- default class for the method, or one of a type it is binary-coercible to), and the collation when it is the
-- key column's own (the type's default for an expression); '' where it is said. Last, the index's and the table's
-- names as pg_get_indexdef quotes them (the reader parses each shape of definition once, names taken out).
SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid),
       obj_description(i.indexrelid, 'pg_class'),
       ARRAY(SELECT
             -- include: key_unsaid
             FROM unnest(i.indclass::oid[], i.indcollation::oid[], i.indkey::int2[])
                  WITH ORDINALITY k(opclass, coll, attnum, n)
             JOIN pg_opclass opc ON opc.oid = k.opclass
             JOIN pg_attribute ia ON ia.attrelid = i.indexrelid AND ia.attnum = k.n
             LEFT JOIN pg_attribute ta ON ta.attrelid = i.indrelid AND ta.attnum = k.attnum AND k.attnum > 0
             -- the key's type: the column's; an expression's is the index column's, unless the class stores
             -- another (a hash class stores int4 codes), where the class's input type stands in for it
             CROSS JOIN LATERAL (SELECT coalesce(ta.atttypid, CASE WHEN opc.opckeytype <> 0 THEN opc.opcintype
                                                                   ELSE ia.atttypid END) AS oid) kt
             JOIN pg_type t ON t.oid = kt.oid
             LEFT JOIN pg_collation co ON co.oid = k.coll
             WHERE k.n <= i.indnkeyatts
             ORDER BY k.n),
       quote_ident(ic.relname), quote_ident(tn.nspname) || '.' || quote_ident(tc.relname)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE i.indrelid = ANY (%(oids)s::oid[])
  AND NOT EXISTS (SELECT FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
