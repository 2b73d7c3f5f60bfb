-- change_column(:posts, :title, :string, {limit: 200})
ALTER TABLE "posts" ALTER COLUMN "title" TYPE character varying(200);
-- change_column_null(:users, :name, false)
ALTER TABLE "users" ALTER COLUMN "name" SET NOT NULL;
