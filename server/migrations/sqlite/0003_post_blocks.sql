-- The timeline in blocks of 1,024 post ids (SQLite flavour; migrations/postgres holds the
-- same for PostgreSQL). With `after=`, the contract asks for `offset`: how many posts are
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

-- Kept by triggers, like users.post_count: every way of writing posts keeps them right.
CREATE TRIGGER post_blocks_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO post_blocks (block, n, min_ts, max_ts)
    VALUES (NEW.id / 1024, 1, NEW.timestamp, NEW.timestamp)
    ON CONFLICT (block) DO UPDATE SET
        n = post_blocks.n + 1,
        min_ts = min(post_blocks.min_ts, excluded.min_ts),
        max_ts = max(post_blocks.max_ts, excluded.max_ts);
END;

CREATE TRIGGER post_blocks_delete AFTER DELETE ON posts
BEGIN
    UPDATE post_blocks SET n = n - 1 WHERE block = OLD.id / 1024;
END;

CREATE TRIGGER post_blocks_update AFTER UPDATE OF id, timestamp ON posts
BEGIN
    UPDATE post_blocks SET n = n - 1 WHERE block = OLD.id / 1024;
    INSERT INTO post_blocks (block, n, min_ts, max_ts)
    VALUES (NEW.id / 1024, 1, NEW.timestamp, NEW.timestamp)
    ON CONFLICT (block) DO UPDATE SET
        n = post_blocks.n + 1,
        min_ts = min(post_blocks.min_ts, excluded.min_ts),
        max_ts = max(post_blocks.max_ts, excluded.max_ts);
END;
