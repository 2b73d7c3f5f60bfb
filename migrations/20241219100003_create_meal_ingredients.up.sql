-- Ingredients of each meal.
CREATE TABLE IF NOT EXISTS meal_ingredients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meal_id    bigint  NOT NULL REFERENCES meals (id) ON DELETE CASCADE,
    ingredient text    NOT NULL,
    quantity   numeric NOT NULL DEFAULT 1
);

CREATE INDEX IF NOT EXISTS idx_meal_ingredients_meal_id ON meal_ingredients (meal_id);
