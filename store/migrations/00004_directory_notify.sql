-- Any change to a directory table, by the importer or by hand in psql,
-- notifies channel hotline_directory when its transaction commits, so every
-- running instance reloads its routing snapshot. Statement-level triggers:
-- one notification per statement; Postgres folds identical notifications of
-- one transaction into one.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION hotline_directory_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hotline_directory', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER provinces_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON provinces
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER staff_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER staff_phones_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff_phones
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER staff_provinces_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff_provinces
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER regions_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON regions
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER areas_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON areas
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER area_provinces_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area_provinces
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER cafes_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cafes
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER cafe_phones_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cafe_phones
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER refusals_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON refusals
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();
CREATE TRIGGER holidays_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON holidays
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_notify();

-- +goose Down
DROP FUNCTION hotline_directory_notify() CASCADE;
