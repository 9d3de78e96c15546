-- The timeline in blocks of 1,024 post ids (PostgreSQL flavour; migrations/sqlite holds
-- the same for SQLite). With `after=`, the contract asks for `offset`: how many posts are
-- at least as new as the `after` time. Counted directly, that visits every newer post
-- (half the table for a cursor in the middle). With these blocks it sums whole blocks and
-- visits only the posts of blocks whose time range straddles the cursor; ids are handed
-- out in about the order of timestamps, so that is one block or two.
CREATE TABLE post_blocks (
    block BIGINT PRIMARY KEY,  -- post id / 1024 (db/posts.rs divides by the same)
    n BIGINT NOT NULL,         -- posts in the block
    -- Bounds on the block's timestamps: widened by inserts, never narrowed by deletes,
    -- so they stay bounds, which is all the counting needs.
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL
);
INSERT INTO post_blocks (block, n, min_ts, max_ts)
SELECT id / 1024, COUNT(*), MIN(timestamp), MAX(timestamp) FROM posts GROUP BY id / 1024;

-- Kept by a trigger, like users.post_count: every way of writing posts keeps them right.
CREATE FUNCTION post_blocks_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE post_blocks SET n = n - 1 WHERE block = OLD.id / 1024;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO post_blocks AS b (block, n, min_ts, max_ts)
        VALUES (NEW.id / 1024, 1, NEW.timestamp, NEW.timestamp)
        ON CONFLICT (block) DO UPDATE SET
            n = b.n + 1,
            min_ts = LEAST(b.min_ts, excluded.min_ts),
            max_ts = GREATEST(b.max_ts, excluded.max_ts);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_blocks AFTER INSERT OR DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION post_blocks_track();
CREATE TRIGGER post_blocks_move AFTER UPDATE OF id, timestamp ON posts
    FOR EACH ROW EXECUTE FUNCTION post_blocks_track();
