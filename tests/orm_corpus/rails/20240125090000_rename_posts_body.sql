-- rename_column(:posts, :body, :content)
ALTER TABLE "posts" RENAME COLUMN "body" TO "content";
