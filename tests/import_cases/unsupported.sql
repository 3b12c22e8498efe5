-- Kinds the spec language cannot say yet, applied after every_kind.sql: `import` must name each one (the test
-- lists the names it expects) and still write the rest.
CREATE TABLE shop.gadgets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY DEFERRABLE,
    serial_no serial,
    price numeric NOT NULL,
    price_with_tax numeric GENERATED ALWAYS AS (price * 1.2) STORED,
    label text COLLATE "C",
    secret text,
    CONSTRAINT gadgets_one_price EXCLUDE USING btree (price WITH =)
);
ALTER TABLE shop.gadgets ADD CONSTRAINT gadgets_price_check CHECK (price > 0) NOT VALID;
GRANT SELECT (label) ON shop.gadgets TO imp_reader;
-- owned by a column that takes its default from elsewhere: a sequence with `owned_by:`, like serial_no's
CREATE SEQUENCE shop.gadget_batches;
ALTER SEQUENCE shop.gadget_batches OWNED BY shop.gadgets.price;
-- owned by a partition's column (`owned_by:` names a table's): imported as a sequence, the ownership named
CREATE SEQUENCE shop.visit_numbers;
ALTER SEQUENCE shop.visit_numbers OWNED BY shop.visits_2026.region;
ALTER TABLE shop.order_lines ADD CONSTRAINT order_lines_sku_key UNIQUE (sku) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX visits_2026_alone ON shop.visits_2026 (region);  -- an index of a partition alone, not its parent's
-- UNLOGGED is the spec's now; its index's fillfactor is not, nor its serial column's unlogged sequence
CREATE UNLOGGED TABLE shop.scratch (x int, n serial);
CREATE INDEX scratch_x_idx ON shop.scratch (x) WITH (fillfactor = 70);
CREATE PROCEDURE shop.reset_credit() LANGUAGE sql AS $$ UPDATE shop.customers SET credit = 0 $$;
CREATE FUNCTION shop.twice(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT 2 * x $$;
CREATE FUNCTION shop.twice(x text) RETURNS text LANGUAGE sql AS $$ SELECT x || x $$;
CREATE RULE notes_no_delete AS ON DELETE TO public.notes DO INSTEAD NOTHING;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO imp_reader;
CREATE FUNCTION shop.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END; $$;
CREATE EVENT TRIGGER imp_on_ddl ON ddl_command_end EXECUTE FUNCTION shop.on_ddl();
