-- no-transaction
-- add_index(:posts, :title, {algorithm: :concurrently})
CREATE INDEX CONCURRENTLY "index_posts_on_title" ON "posts" ("title");
