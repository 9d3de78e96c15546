-- How many posts each user has written (PostgreSQL flavour; migrations/sqlite holds the
-- same for SQLite). The feed is the hottest read; its total is then a sum over the handful
-- of users one follows instead of a count over all of their posts.
ALTER TABLE users ADD COLUMN post_count BIGINT NOT NULL DEFAULT 0;
UPDATE users SET post_count = (SELECT COUNT(*) FROM posts WHERE posts.author_id = users.id);

-- Kept by a trigger, not by the application, so that every way of writing posts (the API,
-- a seeding script, a manual fix) keeps it right, inside the same transaction.
CREATE FUNCTION posts_count_authors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE users SET post_count = post_count - 1 WHERE id = OLD.author_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE users SET post_count = post_count + 1 WHERE id = NEW.author_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posts_count AFTER INSERT OR DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_count_authors();
CREATE TRIGGER posts_count_move AFTER UPDATE OF author_id ON posts
    FOR EACH ROW WHEN (OLD.author_id <> NEW.author_id) EXECUTE FUNCTION posts_count_authors();
