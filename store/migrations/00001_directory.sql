-- The directory: geography, people, cafés. Codes come from the company's
-- spreadsheets and are the primary keys, so imports upsert by code.

-- +goose Up
CREATE TABLE provinces (
    code        text PRIMARY KEY,          -- ASCII slug, e.g. 'kien-giang'
    name        text NOT NULL,             -- with diacritics, 'Kiên Giang'
    ascii_name  text NOT NULL,             -- folded, lower case, 'kien giang'
    area_code   text NOT NULL UNIQUE,      -- landline area code, '0297'
    merged_into text NOT NULL DEFAULT ''   -- province name since 2025-07-01
);

CREATE TABLE staff (
    code       text PRIMARY KEY CHECK (code <> ''),
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('technician', 'area_manager', 'regional_manager', 'operator')),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated')),
    hours      text NOT NULL DEFAULT '24/7',  -- canonical dialplan.Schedule text, Asia/Ho_Chi_Minh
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A person's numbers in dialling order. carrier is the carrier given in the
-- spreadsheet ('' = not given: routing falls back to the prefix hint).
CREATE TABLE staff_phones (
    staff_code text NOT NULL REFERENCES staff (code) ON UPDATE CASCADE ON DELETE CASCADE,
    seq        int  NOT NULL CHECK (seq >= 1),
    e164       text NOT NULL CHECK (e164 ~ '^\+84[0-9]{9,10}$'),
    carrier    text NOT NULL DEFAULT '' CHECK (carrier IN ('', 'viettel', 'vinaphone', 'mobifone',
                                                         'vietnamobile', 'gmobile', 'reddi', 'itel')),
    PRIMARY KEY (staff_code, seq),
    UNIQUE (staff_code, e164)
);
CREATE INDEX staff_phones_e164 ON staff_phones (e164);

-- Provinces a technician covers.
CREATE TABLE staff_provinces (
    staff_code    text NOT NULL REFERENCES staff (code) ON UPDATE CASCADE ON DELETE CASCADE,
    province_code text NOT NULL REFERENCES provinces (code) ON UPDATE CASCADE,
    PRIMARY KEY (staff_code, province_code)
);
CREATE INDEX staff_provinces_province ON staff_provinces (province_code);

CREATE TABLE regions (
    code       text PRIMARY KEY CHECK (code <> ''),
    name       text NOT NULL,
    manager    text REFERENCES staff (code) ON UPDATE CASCADE ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE areas (
    code        text PRIMARY KEY CHECK (code <> ''),
    name        text NOT NULL,
    region_code text NOT NULL REFERENCES regions (code) ON UPDATE CASCADE,
    manager     text REFERENCES staff (code) ON UPDATE CASCADE ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A province is in at most one area (that is how a technician's area manager
-- is found).
CREATE TABLE area_provinces (
    area_code     text NOT NULL REFERENCES areas (code) ON UPDATE CASCADE ON DELETE CASCADE,
    province_code text NOT NULL UNIQUE REFERENCES provinces (code) ON UPDATE CASCADE,
    PRIMARY KEY (area_code, province_code)
);

CREATE TABLE cafes (
    code          text PRIMARY KEY CHECK (code <> ''),
    name          text NOT NULL,
    province_code text NOT NULL REFERENCES provinces (code) ON UPDATE CASCADE,
    technician    text REFERENCES staff (code) ON UPDATE CASCADE ON DELETE SET NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminated')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Café codes are compared like dialplan.CafeKey: ignoring case, and for
-- all-digit codes ignoring leading zeros ('007' = '7': callers may or may not
-- type the zeros), so two such codes cannot both exist.
CREATE UNIQUE INDEX cafes_code_key ON cafes ((CASE WHEN code ~ '^[0-9]+$'
    THEN coalesce(nullif(ltrim(code, '0'), ''), '0') ELSE upper(code) END));
CREATE INDEX cafes_province ON cafes (province_code);
CREATE INDEX cafes_technician ON cafes (technician);

-- A number belongs to at most one café: e164 is the primary key.
CREATE TABLE cafe_phones (
    e164      text PRIMARY KEY CHECK (e164 ~ '^\+84[0-9]{9,10}$'),
    cafe_code text NOT NULL REFERENCES cafes (code) ON UPDATE CASCADE ON DELETE CASCADE,
    seq       int  NOT NULL CHECK (seq >= 1),
    UNIQUE (cafe_code, seq)
);

-- A technician no longer serves a café.
CREATE TABLE refusals (
    staff_code text NOT NULL REFERENCES staff (code) ON UPDATE CASCADE ON DELETE CASCADE,
    cafe_code  text NOT NULL REFERENCES cafes (code) ON UPDATE CASCADE ON DELETE CASCADE,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_code, cafe_code)
);

-- The company's days off, on top of the computed public holidays.
-- region_code NULL = nationwide.
CREATE TABLE holidays (
    id          bigserial PRIMARY KEY,
    day         date NOT NULL,
    name        text NOT NULL,
    region_code text REFERENCES regions (code) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE UNIQUE INDEX holidays_day_region ON holidays (day, (coalesce(region_code, '')));

-- +goose Down
DROP TABLE holidays;
DROP TABLE refusals;
DROP TABLE cafe_phones;
DROP TABLE cafes;
DROP TABLE area_provinces;
DROP TABLE areas;
DROP TABLE regions;
DROP TABLE staff_provinces;
DROP TABLE staff_phones;
DROP TABLE staff;
DROP TABLE provinces;
