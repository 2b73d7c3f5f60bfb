-- add_column(:users, :admin, :boolean, {default: false, null: false})
ALTER TABLE "users" ADD "admin" boolean DEFAULT FALSE NOT NULL;
