-- How many posts each user has written (SQLite flavour; migrations/postgres holds the same
-- for PostgreSQL). The feed is the hottest read; its total is then a sum over the handful
-- of users one follows instead of a count over all of their posts.
ALTER TABLE users ADD COLUMN post_count BIGINT NOT NULL DEFAULT 0;
UPDATE users SET post_count = (SELECT COUNT(*) FROM posts WHERE posts.author_id = users.id);

-- Kept by triggers, not by the application, so that every way of writing posts (the API,
-- a seeding script, a manual fix) keeps it right, inside the same transaction.
CREATE TRIGGER posts_count_insert AFTER INSERT ON posts
BEGIN
    UPDATE users SET post_count = post_count + 1 WHERE id = NEW.author_id;
END;

CREATE TRIGGER posts_count_delete AFTER DELETE ON posts
BEGIN
    UPDATE users SET post_count = post_count - 1 WHERE id = OLD.author_id;
END;

CREATE TRIGGER posts_count_move AFTER UPDATE OF author_id ON posts
WHEN OLD.author_id <> NEW.author_id
BEGIN
    UPDATE users SET post_count = post_count - 1 WHERE id = OLD.author_id;
    UPDATE users SET post_count = post_count + 1 WHERE id = NEW.author_id;
END;
