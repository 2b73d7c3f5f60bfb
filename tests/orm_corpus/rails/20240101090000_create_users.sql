-- create_table(:users)
CREATE TABLE "users" ("id" bigserial primary key, "email" character varying NOT NULL, "name" character varying, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL);
-- add_index(:users, :email, {unique: true})
CREATE UNIQUE INDEX "index_users_on_email" ON "users" ("email");
