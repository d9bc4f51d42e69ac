-- Install once per database: a trigger function that tells cached, through
-- NOTIFY, which rows of a table changed, so that changes made directly in
-- SQL invalidate the cached keys. Arguments: the channel (the origin's
-- notify-channel) and the key column. The payload is the key column's value
-- as text (the id the rule's '*' matches); an UPDATE that changes the key
-- notifies the old and the new one.
CREATE OR REPLACE FUNCTION cached_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify(TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1]);
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (to_jsonb(NEW) ->> TG_ARGV[1]) IS DISTINCT FROM (to_jsonb(OLD) ->> TG_ARGV[1])) THEN
		PERFORM pg_notify(TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]);
	END IF;
	RETURN NULL;
END
$$;

-- Then, per table (here users, key column id, channel cached_invalidate):
-- CREATE TRIGGER users_cached_notify AFTER INSERT OR UPDATE OR DELETE ON users
-- 	FOR EACH ROW EXECUTE FUNCTION cached_notify('cached_invalidate', 'id');
