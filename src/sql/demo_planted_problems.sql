-- Demo: problems a health check must find. meals.user_id already lacks an index (schema).
-- A duplicate of idx_meal_ingredients_meal_id:
CREATE INDEX idx_meal_ingredients_meal_id_copy ON meal_ingredients (meal_id);
-- An index nothing uses:
CREATE INDEX idx_users_created_at ON users (created_at);
-- A table without a primary key:
CREATE TABLE meal_ratings (meal_id bigint NOT NULL, stars int NOT NULL, rated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO meal_ratings (meal_id, stars) SELECT 1 + g % 1000, 1 + g % 5 FROM generate_series(1, 2000) g;
ANALYZE meal_ratings;
