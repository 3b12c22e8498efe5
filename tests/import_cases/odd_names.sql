-- A hostile database (issue 10 point 4): every name that needs quoting, in every place a name goes. Quotes,
-- spaces, capitals, unicode, keywords, a dollar inside identifiers (a dot would read as schema.name: refused). Import, generate, apply, verify and
-- pg_dump must all come back the same; lint --db and plan --db must read it without a traceback.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'Odd "Reader"') THEN CREATE ROLE "Odd ""Reader"""; END IF;
END
$$;

CREATE SCHEMA "Odd Schema";
COMMENT ON SCHEMA "Odd Schema" IS 'Spaces and capitals; it''s quoted.';
GRANT USAGE ON SCHEMA "Odd Schema" TO "Odd ""Reader""";

CREATE TYPE "Odd Schema"."Mood ☺" AS ENUM ('it''s', 'a "b"', 'ünï', 'with space');
CREATE TYPE "Odd Schema"."Place ☺" AS ("Street Name" text COLLATE "C", "zip$" varchar(10), "select" integer);
GRANT USAGE ON TYPE "Odd Schema"."Place ☺" TO "Odd ""Reader""";
CREATE DOMAIN "Odd Schema"."E-mail" AS text CONSTRAINT "has ""@""" CHECK (VALUE ~ '@');

CREATE SEQUENCE "Odd Schema"."Seq $ ünï";

CREATE FUNCTION "Odd Schema"."Do Thing"("select" integer, "Ünï" text DEFAULT 'x''y')
RETURNS integer LANGUAGE sql IMMUTABLE SET search_path = '' AS $$ SELECT $1 + length($2) $$;

CREATE FUNCTION "Odd Schema"."touch$"() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
    NEW."Updated At" := now();
    RETURN NEW;
END;
$$;

CREATE TABLE "Odd Schema"."we""ird table" (
    "select" integer NOT NULL,
    "user" text NOT NULL DEFAULT 'some one',
    "Ünïcode" "Odd Schema"."Mood ☺" NOT NULL DEFAULT 'it''s',
    "with space" text,
    "order" bigint NOT NULL DEFAULT nextval('"Odd Schema"."Seq $ ünï"'::regclass),
    "Updated At" timestamptz,
    PRIMARY KEY ("select"),
    CONSTRAINT "Check: ""positive""" CHECK ("select" > 0 AND "with space" <> 'a;b'),
    CONSTRAINT "unique ünï" UNIQUE ("user", "with space")
);
COMMENT ON TABLE "Odd Schema"."we""ird table" IS 'A table named with a quote.';
COMMENT ON COLUMN "Odd Schema"."we""ird table"."user" IS 'Not CURRENT_USER.';

CREATE TABLE "Odd Schema"."Child Table" (
    id integer PRIMARY KEY,
    "parent select" integer REFERENCES "Odd Schema"."we""ird table" ("select") ON DELETE CASCADE,
    "where" "Odd Schema"."Place ☺",
    "mail" "Odd Schema"."E-mail"[]
);

-- No index on its foreign key: lint --db has a finding to name.
CREATE TABLE "Odd Schema"."Grand ""Child""" (
    id integer PRIMARY KEY,
    "child id" integer REFERENCES "Odd Schema"."Child Table" (id)
);

CREATE INDEX "index with space" ON "Odd Schema"."we""ird table" ("user", "Updated At" DESC)
    WHERE "with space" IS NOT NULL;
CREATE INDEX "Child Table parent" ON "Odd Schema"."Child Table" ("parent select");

CREATE TRIGGER "Touch ""it""" BEFORE UPDATE ON "Odd Schema"."we""ird table"
    FOR EACH ROW EXECUTE FUNCTION "Odd Schema"."touch$"();

ALTER TABLE "Odd Schema"."we""ird table" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Readers' ""view"" ☺" ON "Odd Schema"."we""ird table" FOR SELECT TO "Odd ""Reader"""
    USING ("user" = current_user AND "Ünïcode" <> 'a "b"');
GRANT SELECT ON "Odd Schema"."we""ird table" TO "Odd ""Reader""";

CREATE VIEW "Odd Schema"."v-iew" WITH (security_invoker = true) AS
    SELECT "select", "user" AS "The User" FROM "Odd Schema"."we""ird table" WHERE "Ünïcode" = 'ünï';
GRANT SELECT ON "Odd Schema"."v-iew" TO "Odd ""Reader""";
