-- Included by indexes.sql and partitions.sql (`-- include: key_unsaid`): for one key of an index or a partition
-- key, what PostgreSQL's printed definition leaves unsaid, as ruleutils.c decides it: the operator class `opc`
-- when it is the default for the key's type `kt` (the type's default class for the method, or one of a type it is
-- binary-coercible to), and the collation `k.coll` when it is the key column's `ta` own (the type's `t` default
-- for an expression); '' where it is said.
ARRAY[CASE WHEN opc.opcdefault AND (opc.opcintype = kt.oid OR EXISTS (
          SELECT FROM pg_cast cst WHERE cst.castsource = kt.oid AND cst.casttarget = opc.opcintype
            AND cst.castmethod = 'b'))
      THEN opc.opcname::text ELSE '' END,
      CASE WHEN k.coll <> 0 AND k.coll = coalesce(ta.attcollation, t.typcollation)
      THEN co.collname::text ELSE '' END]
