-- User triggers (not the internal ones behind foreign keys) as CREATE TRIGGER statements, with the function's
-- schema-qualified name, whether the trigger is enabled, and its comment.
SELECT t.tgrelid, t.tgname, pg_get_triggerdef(t.oid), fn.nspname, p.proname, t.tgenabled::text,
       obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace fn ON fn.oid = p.pronamespace
WHERE t.tgrelid = ANY (%(oids)s::oid[]) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
