-- What GRANT ALL means on this server, per ACL kind (relation, sequence, function, schema, type): the privileges an
-- owner holds by default. PostgreSQL 17 added MAINTAIN to relations, so this is read, not hard-coded.
SELECT k.kind,
       ARRAY(SELECT lower(a.privilege_type) FROM aclexplode(acldefault(k.kind::"char", 10::oid)) a
             WHERE a.grantee = 10::oid)
FROM unnest(ARRAY['r', 's', 'f', 'n', 'T']) AS k(kind)
