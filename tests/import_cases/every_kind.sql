-- A schema written by hand in SQL, using every kind the spec language has (the import round trip's case (d)).
-- Roles are cluster-wide: created only when missing, since they outlive the test database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'imp_reader') THEN CREATE ROLE imp_reader; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'imp_writer') THEN CREATE ROLE imp_writer LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'imp_admin') THEN CREATE ROLE imp_admin BYPASSRLS; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'imp_owner') THEN CREATE ROLE imp_owner; END IF;
END
$$;

CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'The shop''s tables.';
GRANT USAGE ON SCHEMA shop TO imp_reader, imp_writer;

-- Extensions: citext's type in a column of shop, btree_gist's operator classes in a GiST index on text.
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA shop;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- Default privileges on what is created later (after the extensions, whose functions keep PUBLIC's EXECUTE, and
-- before the rest, as the generated SQL places them: an identity column's sequence gets the sequence grant, and
-- the spec cannot grant on it by name): in schema shop, and the global ones (PUBLIC's EXECUTE revoked).
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO imp_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT USAGE ON SEQUENCES TO imp_writer;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE TYPE shop.mood AS ENUM ('happy', 'sad', 'so so');
COMMENT ON TYPE shop.mood IS 'How a customer feels.';

-- Composite types (one with no attributes, which PostgreSQL allows) and domains, each used by a column, an array
-- column or a function; privileges on a type (PUBLIC's default USAGE revoked).
CREATE TYPE shop.address AS (street text, zip varchar(10) COLLATE "C", city text);
CREATE TYPE shop.nothing AS ();
REVOKE USAGE ON TYPE shop.address FROM PUBLIC;
GRANT USAGE ON TYPE shop.address TO imp_reader, imp_writer;
CREATE DOMAIN shop.email AS text COLLATE "C" NOT NULL DEFAULT 'nobody@example.com'
    CONSTRAINT email_shape CHECK (VALUE ~ '@') CONSTRAINT email_short CHECK (length(VALUE) < 320);
COMMENT ON DOMAIN shop.email IS 'Where to write.';
CREATE DOMAIN shop.positive AS numeric(12, 2) CHECK (VALUE > 0);
CREATE DOMAIN shop.addresses AS shop.address[];
-- types another role owns
ALTER TYPE shop.nothing OWNER TO imp_owner;
ALTER DOMAIN shop.positive OWNER TO imp_owner;

CREATE SEQUENCE shop.order_number_seq AS integer START 1000 INCREMENT 5 MINVALUE 10 MAXVALUE 999999 CACHE 3 CYCLE;
COMMENT ON SEQUENCE shop.order_number_seq IS 'Order numbers.';
GRANT USAGE, SELECT ON SEQUENCE shop.order_number_seq TO imp_writer;

CREATE FUNCTION shop.current_customer() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT nullif(current_setting('app.customer', true), '')::uuid $$;
COMMENT ON FUNCTION shop.current_customer() IS 'The customer of the session.';
REVOKE EXECUTE ON FUNCTION shop.current_customer() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shop.current_customer() TO imp_reader, imp_writer;

CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql SET search_path = shop, pg_temp AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE FUNCTION shop.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'changed %', TG_TABLE_NAME;
    RETURN NULL;
END;
$$;

CREATE FUNCTION public.add_tax(amount numeric, rate numeric DEFAULT 0.2, OUT total numeric, OUT tax numeric)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5
AS $$ SELECT amount * (1 + rate), amount * rate $$;

CREATE FUNCTION shop.city_of(a shop.address) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT (a).city $$;

CREATE FUNCTION public.recent_numbers(n integer DEFAULT 10) RETURNS SETOF integer LANGUAGE sql STABLE ROWS 50
AS $$ SELECT generate_series(1, n) $$;

-- VARIADIC in a LANGUAGE sql function: pglast's PL/pgSQL parser refuses VARIADIC (it cannot tell an array type),
-- and check reports its refusal as an error.
CREATE FUNCTION public.first_of(VARIADIC items text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT items[1] $$;

CREATE FUNCTION public.order_summary(ids uuid[])
RETURNS TABLE (id uuid, total numeric) LANGUAGE plpgsql STABLE LEAKPROOF AS $$
BEGIN
    RETURN QUERY SELECT o.id, o.total FROM shop.orders o WHERE o.id = ANY (ids);
END;
$$;

CREATE TABLE shop.customers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email varchar(320) NOT NULL UNIQUE,
    nickname shop.citext,
    name text NOT NULL DEFAULT 'anonymous',
    vip boolean NOT NULL DEFAULT false,
    mood shop.mood DEFAULT 'happy',
    credit integer DEFAULT 0,
    profile jsonb DEFAULT '{"lang": "en"}',
    tags text[],
    home shop.address,
    contact shop.email,
    past shop.addresses,
    kind varchar(10) NOT NULL DEFAULT 'person' CONSTRAINT valid_kind CHECK (kind IN ('person', 'company')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);
COMMENT ON TABLE shop.customers IS 'People and companies who order.';
COMMENT ON COLUMN shop.customers.email IS 'Where receipts go.';
CREATE INDEX customers_tags_idx ON shop.customers USING gin (tags);
CREATE INDEX customers_lower_email_idx ON shop.customers (lower(email::text));
CREATE INDEX customers_vip_idx ON shop.customers (created_at DESC NULLS LAST) WHERE vip;
-- Index options: a collation and an operator class on a key, an expression key with an operator class, INCLUDE,
-- a GIN operator class, NULLS NOT DISTINCT.
CREATE INDEX customers_name_idx ON shop.customers (name COLLATE "C" text_pattern_ops DESC) INCLUDE (vip, credit);
CREATE INDEX customers_lower_name_idx ON shop.customers ((lower(name)) text_pattern_ops);
CREATE INDEX customers_profile_idx ON shop.customers USING gin (profile jsonb_path_ops);
CREATE UNIQUE INDEX customers_nickname_key ON shop.customers (nickname) NULLS NOT DISTINCT;
COMMENT ON INDEX shop.customers_vip_idx IS 'VIP listing, newest first.';
CREATE TRIGGER customers_touch BEFORE UPDATE ON shop.customers FOR EACH ROW EXECUTE FUNCTION shop.touch();
ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.customers FORCE ROW LEVEL SECURITY;
CREATE POLICY "customers see themselves" ON shop.customers FOR SELECT TO imp_reader, imp_writer
    USING (id = (SELECT shop.current_customer()));
CREATE POLICY "no company edits" ON shop.customers AS RESTRICTIVE FOR UPDATE TO imp_writer
    USING (kind <> 'company') WITH CHECK (kind <> 'company');
COMMENT ON POLICY "customers see themselves" ON shop.customers IS 'Row ownership.';
GRANT SELECT ON shop.customers TO imp_reader;
GRANT SELECT, INSERT, UPDATE ON shop.customers TO imp_writer;
GRANT ALL ON shop.customers TO imp_admin;
-- Column privileges: a reader may correct a customer's name only, and reference its email.
GRANT UPDATE (name), REFERENCES (email) ON shop.customers TO imp_reader;

CREATE TABLE shop.orders (
    id uuid DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
    number integer NOT NULL DEFAULT nextval('shop.order_number_seq'),
    total numeric(12, 2) NOT NULL CHECK (total >= 0),
    status text NOT NULL DEFAULT 'open',
    placed_on date DEFAULT CURRENT_DATE,
    updated_at timestamptz,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_number_per_customer UNIQUE (customer_id, number),
    CONSTRAINT orders_status_check CHECK (status IN ('open', 'paid', 'shipped')),
    -- an exclusion constraint (btree_gist's `=` on integer), deferred, with an expression key and a predicate
    CONSTRAINT orders_one_open_number_a_day EXCLUDE USING gist (number WITH =,
        (daterange(placed_on, placed_on, '[]')) WITH &&) WHERE (status = 'open') DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
CREATE UNIQUE INDEX orders_open_idx ON shop.orders (customer_id) WHERE status = 'open';
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE OF total, status ON shop.orders
    FOR EACH ROW WHEN (NEW.total > 0) EXECUTE FUNCTION shop.touch();
CREATE TRIGGER orders_audit AFTER DELETE OR TRUNCATE ON shop.orders FOR EACH STATEMENT EXECUTE FUNCTION shop.audit();
COMMENT ON TRIGGER orders_audit ON shop.orders IS 'Logs bulk changes.';
-- Transition tables, a constraint trigger and each enable mode (pg_trigger.tgenabled).
CREATE TRIGGER orders_inserted AFTER INSERT ON shop.orders REFERENCING NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION shop.audit();
ALTER TABLE shop.orders ENABLE ALWAYS TRIGGER orders_inserted;
CREATE TRIGGER orders_updated AFTER UPDATE ON shop.orders REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH ROW EXECUTE FUNCTION shop.audit();
ALTER TABLE shop.orders DISABLE TRIGGER orders_updated;
CREATE CONSTRAINT TRIGGER orders_settled AFTER UPDATE OF status ON shop.orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'paid') EXECUTE FUNCTION shop.audit();
ALTER TABLE shop.orders ENABLE REPLICA TRIGGER orders_settled;
CREATE CONSTRAINT TRIGGER orders_checked AFTER DELETE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.audit();
-- Arguments (TG_ARGV), one with a quote and one that reads as a number.
CREATE TRIGGER orders_args AFTER INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.audit('x', 'it''s', '3');
ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_own ON shop.orders TO imp_writer
    USING (customer_id = (SELECT shop.current_customer()))
    WITH CHECK (customer_id = (SELECT shop.current_customer()));
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.orders TO imp_writer;

CREATE TABLE shop.order_lines (
    order_id uuid NOT NULL,
    line integer NOT NULL,
    customer_id uuid NOT NULL,
    sku text COLLATE "C" NOT NULL,
    quantity integer NOT NULL DEFAULT 1,
    price shop.positive,
    doubled integer GENERATED ALWAYS AS (quantity * 2) STORED,
    seq bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10 CACHE 2),
    ref smallint GENERATED BY DEFAULT AS IDENTITY,
    PRIMARY KEY (order_id, line),
    CONSTRAINT order_lines_seq_ref_key UNIQUE NULLS NOT DISTINCT (seq, ref) DEFERRABLE,
    CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES shop.orders (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT order_lines_customer_number_fk FOREIGN KEY (customer_id, line)
        REFERENCES shop.orders (customer_id, number) ON DELETE CASCADE
);
-- NOT VALID: the rows already there are not checked (a CHECK and a foreign key)
ALTER TABLE shop.order_lines ADD CONSTRAINT order_lines_quantity_positive CHECK (quantity > 0) NOT VALID;
ALTER TABLE shop.order_lines ADD CONSTRAINT order_lines_customer_fk FOREIGN KEY (customer_id)
    REFERENCES shop.customers (id) NOT VALID;

CREATE TABLE public.notes (body text);
-- The rest of PostgreSQL's built-in types: precision on time types (as ORMs write timestamps), full-text search
-- with a generated tsvector and its GIN index, bit strings, money, network, geometric and object-identifier types.
CREATE TABLE public.documents (
    id integer PRIMARY KEY,
    number serial,  -- PostgreSQL's serial columns: a sequence OWNED BY the column, and a nextval() default
    big_number bigserial,
    title text NOT NULL DEFAULT '',
    search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, title)) STORED,
    query tsquery,
    created timestamp(3) with time zone NOT NULL DEFAULT now(),
    local_at timestamp(0) without time zone,
    opens time(2) with time zone,
    closes timetz,
    took interval(0),
    waited interval day to second(2),
    term interval year to month,
    flags bit(8) DEFAULT B'00000000',
    flag bit,
    mask bit varying(16),
    code character,
    price money,
    mac macaddr,
    spot point,
    area box,
    wal pg_lsn,
    rel regclass,
    spans int4multirange,
    stamps timestamptz(3)[]
);
CREATE INDEX documents_search_idx ON public.documents USING gin (search);
CREATE FUNCTION public.first_of(items anyarray) RETURNS anyelement LANGUAGE sql IMMUTABLE AS 'SELECT items[1]';
CREATE FUNCTION public.larger(a anycompatible, b anycompatible) RETURNS anycompatible LANGUAGE sql IMMUTABLE
    AS 'SELECT CASE WHEN a > b THEN a ELSE b END';
CREATE FUNCTION public.matches(doc tsvector, q tsquery, cfg regconfig DEFAULT 'simple') RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT doc @@ q';
-- A primary key with another name than TABLE_pkey (what a table keeps after ALTER TABLE ... RENAME), deferred.
CREATE TABLE public.note_tags (note_id integer, tag text,
    CONSTRAINT tags_of_notes_pk PRIMARY KEY (note_id, tag) DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX notes_body_gist ON public.notes USING gist (body);
GRANT SELECT ON public.notes TO PUBLIC;

CREATE VIEW shop.open_orders WITH (security_invoker = true, security_barrier = true) AS
    SELECT o.id, o.total, c.email FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id
    WHERE o.status IN ('open', 'paid');
COMMENT ON VIEW shop.open_orders IS 'Orders still to ship.';
GRANT SELECT ON shop.open_orders TO imp_reader;

-- A view with a check option, an unlogged table, and objects another role owns (after their grants, as the
-- generated SQL places OWNER TO: the grants pass to the new owner).
CREATE VIEW shop.paid_orders WITH (security_invoker = true) AS
    SELECT id, total, status FROM shop.orders WHERE status = 'paid'
    WITH LOCAL CHECK OPTION;
ALTER VIEW shop.paid_orders OWNER TO imp_owner;
CREATE UNLOGGED TABLE public.cache (key text PRIMARY KEY, value jsonb);
ALTER TABLE public.cache OWNER TO imp_owner;
ALTER SEQUENCE shop.order_number_seq OWNER TO imp_owner;
ALTER FUNCTION public.first_of(text[]) OWNER TO imp_owner;
ALTER SCHEMA shop OWNER TO imp_owner;
CREATE FUNCTION shop.open_orders_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shop.orders (customer_id, total) SELECT c.id, NEW.total FROM shop.customers c WHERE c.email = NEW.email;
    RETURN NEW;
END;
$$;
CREATE TRIGGER open_orders_insert INSTEAD OF INSERT ON shop.open_orders FOR EACH ROW
    EXECUTE FUNCTION shop.open_orders_insert();
CREATE TRIGGER open_orders_inserted AFTER INSERT ON shop.open_orders FOR EACH STATEMENT EXECUTE FUNCTION shop.audit();

-- Materialized views: one filled with a unique index (REFRESH ... CONCURRENTLY needs it), grants and a comment; one
-- left empty (WITH NO DATA) reading the first.
CREATE MATERIALIZED VIEW shop.order_totals AS
    SELECT customer_id, sum(total) AS total, count(*) AS orders FROM shop.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_totals_customer_idx ON shop.order_totals (customer_id);
CREATE INDEX order_totals_big_idx ON shop.order_totals (total DESC) WHERE total > 1000;
COMMENT ON MATERIALIZED VIEW shop.order_totals IS 'Spend per customer, refreshed nightly.';
GRANT SELECT ON shop.order_totals TO imp_reader;
CREATE MATERIALIZED VIEW public.big_spenders AS SELECT customer_id FROM shop.order_totals WHERE total > 1000
    WITH NO DATA;
ALTER MATERIALIZED VIEW public.big_spenders OWNER TO imp_owner;

-- Partitioned tables (joined to customers by foreign keys): by range, with a default partition, a partition with
-- its own comment and grants, and one itself partitioned by list; by list, with a default partition. The parent's
-- index, keys and foreign key reach every partition (they are not the partitions' own). The default privileges of
-- shop give every partition SELECT for imp_reader.
CREATE TABLE shop.visits (
    id bigint NOT NULL,
    at date NOT NULL,
    region text NOT NULL,
    customer_id uuid REFERENCES shop.customers (id),
    PRIMARY KEY (id, at, region)
) PARTITION BY RANGE (at);
CREATE INDEX visits_customer_idx ON shop.visits (customer_id);
COMMENT ON TABLE shop.visits IS 'Visits, one partition a year.';
CREATE TABLE shop.visits_2026 PARTITION OF shop.visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
COMMENT ON TABLE shop.visits_2026 IS 'This year.';
GRANT INSERT ON shop.visits_2026 TO imp_writer;
CREATE TABLE shop.visits_2027 PARTITION OF shop.visits FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')
    PARTITION BY LIST (region);
CREATE TABLE shop.visits_2027_eu PARTITION OF shop.visits_2027 FOR VALUES IN ('eu', 'uk');
CREATE TABLE shop.visits_2027_rest PARTITION OF shop.visits_2027 DEFAULT;
CREATE TABLE shop.visits_older PARTITION OF shop.visits DEFAULT;
CREATE TABLE shop.complaints (
    id bigint NOT NULL,
    severity text NOT NULL,
    customer_id uuid NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE
) PARTITION BY LIST (severity);
CREATE TABLE shop.complaints_urgent PARTITION OF shop.complaints FOR VALUES IN ('high', 'critical');
CREATE TABLE shop.complaints_other PARTITION OF shop.complaints DEFAULT;
ALTER TABLE shop.complaints_other OWNER TO imp_owner;
-- Overloads (one name, other argument types), a trigger function's among them (its triggers then name it
-- `shop.touch()`); procedures (IN, INOUT and OUT arguments, SECURITY DEFINER, grants, comment, owner).
CREATE FUNCTION shop.touch(stamp timestamptz) RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT stamp $$;
CREATE FUNCTION public.label_of(n integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'n' || n $$;
CREATE FUNCTION public.label_of(t text, shout boolean DEFAULT false) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN shout THEN upper(t) ELSE t END $$;
COMMENT ON FUNCTION public.label_of(text, boolean) IS 'A text label.';
GRANT EXECUTE ON FUNCTION public.label_of(integer) TO imp_reader;
CREATE PROCEDURE shop.settle(IN order_id uuid, INOUT settled integer, OUT settled_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    UPDATE shop.orders SET status = 'paid' WHERE id = order_id;
    settled := settled + 1;
    settled_at := now();
END;
$$;
COMMENT ON PROCEDURE shop.settle(uuid, integer) IS 'Marks an order paid.';
GRANT EXECUTE ON PROCEDURE shop.settle(uuid, integer) TO imp_writer;
ALTER PROCEDURE shop.settle(uuid, integer) OWNER TO imp_owner;
CREATE PROCEDURE public.noop() LANGUAGE sql AS $$ SELECT 1 $$;
